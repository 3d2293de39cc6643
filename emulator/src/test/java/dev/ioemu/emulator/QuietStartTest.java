package dev.ioemu.emulator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A normal run prints nothing but what QEMU prints (issue 8, hostile item 8: every start printed
 * an slf4j INFO line about the buffer pool): a VM whose guest reads a sector through a
 * {@code cache=none} drive — so the block layer probes the alignment and bounces through its
 * buffer pool — and is then ended by SIGTERM writes only the termination line to stderr (the
 * qtest log, which like QEMU's goes to stderr by default, is turned off).
 */
class QuietStartTest {
    @TempDir
    Path dir;
    private Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    @Test
    void aRunWithDiskIoPrintsOnlyTheTerminationLine() throws Exception {
        Path img = dir.resolve("d.img");
        Files.write(img, new byte[1 << 20]);
        Path stderr = dir.resolve("stderr");
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "-machine", "pc", "-accel", "qtest", "-nodefaults", "-display", "none", "-qtest", "stdio",
                "-qtest-log", "none", "-drive", "file=" + img + ",if=ide,format=raw,cache=none")
                .redirectError(stderr.toFile()).start();
        BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1));
        OutputStream out = process.getOutputStream();
        // READ SECTORS, LBA 0, one sector, by PIO: the sector lands in the drive's buffer.
        for (String l : List.of("outb 0x1f6 0xe0", "outb 0x1f2 0x1", "outb 0x1f3 0x0", "outb 0x1f4 0x0",
                "outb 0x1f5 0x0", "outb 0x1f7 0x20", "inw 0x1f0")) {
            out.write((l + "\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String reply = in.readLine();
            assertNotNull(reply, "stream ended after " + l);
            assertTrue(reply.startsWith("OK"), l + ": " + reply);
        }
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue());
        assertEquals(List.of("ioemu: terminating on signal 15"), Files.readAllLines(stderr));
    }
}
