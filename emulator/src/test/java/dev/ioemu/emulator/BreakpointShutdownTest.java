package dev.ioemu.emulator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VM ends cleanly while a guest request is held at a blkdebug breakpoint (issue 8): SIGTERM
 * or QMP quit resumes the held request, which completes (its data reaches the image), the drive
 * is drained, flushed and closed, and the process exits with status 0 — before, the drain waited for ever. Driven the way
 * ide-test drives it: the guest's PIO WRITE SECTORS over qtest, the breakpoint over QMP
 * {@code human-monitor-command "qemu-io ide0-hd0 \"break write_aio A\""} and {@code wait_break}.
 */
class BreakpointShutdownTest {
    @TempDir
    Path dir;
    private Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SIGTERM", "QMP quit"})
    void endingTheVmCompletesARequestHeldAtABreakpoint(String how) throws Exception {
        Path img = dir.resolve("d.img");
        Files.write(img, new byte[1 << 20]);
        Path qmpSocket = dir.resolve("qmp.sock");
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(qmpSocket), 1);
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                    "-machine", "pc", "-accel", "qtest", "-nodefaults", "-display", "none",
                    "-qtest", "stdio", "-qtest-log", "none", "-qmp", "unix:" + qmpSocket,
                    "-drive", "file=blkdebug::" + img + ",if=ide,format=raw,cache=writeback");
            process = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile()).start();
            BufferedReader qtestIn = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream qtestOut = process.getOutputStream();
            try (SocketChannel qmp = listener.accept()) {
                BufferedReader qmpIn = new BufferedReader(new InputStreamReader(Channels.newInputStream(qmp), StandardCharsets.UTF_8));
                OutputStream qmpOut = Channels.newOutputStream(qmp);
                assertTrue(line(qmpIn).startsWith("{\"QMP\""));
                assertEquals("{\"return\": {}}", request(qmpOut, qmpIn, "{\"execute\": \"qmp_capabilities\"}"));
                assertEquals("{\"return\": \"\"}", hmp(qmpOut, qmpIn, "qemu-io ide0-hd0 \\\"break write_aio A\\\""));

                // The guest writes LBA 0 by PIO (ATA WRITE SECTORS): the drive's write is held.
                for (String l : List.of("outb 0x1f6 0xe0", "outb 0x1f2 0x1", "outb 0x1f3 0x0", "outb 0x1f4 0x0",
                        "outb 0x1f5 0x0", "outb 0x1f7 0x30")) {
                    assertEquals("OK", request(qtestOut, qtestIn, l), l);
                }
                StringBuilder words = new StringBuilder();
                for (int i = 0; i < 256; i++) {
                    words.append("outw 0x1f0 0x5a5a\n");
                }
                qtestOut.write(words.toString().getBytes(StandardCharsets.ISO_8859_1));
                qtestOut.flush();
                for (int i = 0; i < 256; i++) {
                    assertEquals("OK", line(qtestIn));
                }
                assertEquals("{\"return\": \"\"}", hmp(qmpOut, qmpIn, "qemu-io ide0-hd0 \\\"wait_break A\\\""));
                assertTrue(request(qtestOut, qtestIn, "inb 0x1f7").matches("OK 0x00[89a-f][0-9a-f]"),
                        "BSY while the write is held");

                if (how.equals("SIGTERM")) {
                    process.destroy();
                } else {
                    request(qmpOut, qmpIn, "{\"execute\": \"quit\"}");
                }
                assertTrue(process.waitFor(30, TimeUnit.SECONDS), how + " ends the VM; stderr: "
                        + Files.readString(dir.resolve("stderr")));
                assertEquals(0, process.exitValue());
            }
        }
        byte[] sector = new byte[512];
        Arrays.fill(sector, (byte) 0x5a);
        assertArrayEquals(sector, Arrays.copyOf(Files.readAllBytes(img), 512), "the held write completed before exit");
    }

    private static String hmp(OutputStream out, BufferedReader in, String commandLine) throws Exception {
        return request(out, in, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \""
                + commandLine + "\"}}");
    }

    private static String request(OutputStream out, BufferedReader in, String line) throws Exception {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return line(in);
    }

    private static String line(BufferedReader in) throws Exception {
        String l = in.readLine();
        assertNotNull(l, "stream ended");
        return l;
    }
}
