package dev.ioemu.tests.launch;

import dev.ioemu.tools.Demo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main job end to end: the demo drives {@code emulator/bin/ioemu} over qtest and must see the
 * guest-visible results it narrates, the SIGTERM exit status 0, the data in the image file and a
 * trace log with flushes in it.
 */
class DemoTest {
    @TempDir
    Path dir;

    @Test
    void demoWritesFlushesAndReadsBackThroughTheEmulator() throws Exception {
        Path launcher = LibqtestLaunchTest.launcher();
        var bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            Demo.main(new String[] {launcher.toString(), dir.toString(), "fadvise"});
        } finally {
            System.setOut(saved);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        saved.print(out);
        assertTrue(out.contains("IRQ14 raised; status 0x58"), "IDENTIFY raised IRQ 14 with DRQ");
        assertTrue(out.contains("flush acknowledged"), "FLUSH CACHE succeeded");
        assertTrue(out.contains("data read back equals data written"), "READ DMA returned the written data");
        assertTrue(out.contains("write cache off"), "SET FEATURES 0x82 cleared IDENTIFY word 85 bit 5");
        assertTrue(out.contains("status 0x41 error 0x04"), "unknown opcode aborted");
        assertTrue(out.contains("exit status 0"), "SIGTERM ends the emulator with status 0");
        assertTrue(out.contains("\"Written by the ioemu demo"), "the image file holds the DMA data");
        String trace = Files.readString(dir.resolve("trace.log"));
        assertTrue(trace.contains(":blk_flush ") && trace.contains(":ide_exec_cmd "), "trace log has flush and command events");
    }
}
