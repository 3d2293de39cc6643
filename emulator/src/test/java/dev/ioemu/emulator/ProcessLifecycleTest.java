package dev.ioemu.emulator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real process, launched the way libqtest launches QEMU (shared/spec/qtest.md §5.2): it
 * connects to the test's two sockets, answers the handshakes, and ends with status 0 on SIGTERM
 * (what qtest_quit requires) or QMP quit.
 */
class ProcessLifecycleTest {
    @TempDir
    Path dir;
    private Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private Process launch(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        process = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile()).start();
        return process;
    }

    private static String readLine(BufferedReader r) throws Exception {
        String line = r.readLine();
        assertTrue(line != null, "stream ended");
        return line;
    }

    /** The two listening sockets of libqtest and the connections the emulator made to them. */
    private final class Libqtest implements AutoCloseable {
        final ServerSocketChannel qtestListener;
        final ServerSocketChannel qmpListener;
        SocketChannel qtest;
        SocketChannel qmp;
        BufferedReader qtestIn;
        BufferedReader qmpIn;

        Libqtest() throws Exception {
            qtestListener = listen(dir.resolve("qtest-1.sock"));
            qmpListener = listen(dir.resolve("qtest-1.qmp"));
        }

        private ServerSocketChannel listen(Path p) throws Exception {
            ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            s.bind(UnixDomainSocketAddress.of(p), 1);
            return s;
        }

        void launchAndAccept() throws Exception {
            launch("-qtest", "unix:" + dir.resolve("qtest-1.sock"), "-qtest-log", "/dev/null",
                    "-chardev", "socket,path=" + dir.resolve("qtest-1.qmp") + ",id=char0",
                    "-mon", "chardev=char0,mode=control", "-display", "none", "-machine", "pc", "-accel", "qtest");
            qtest = qtestListener.accept();
            qmp = qmpListener.accept();
            qtestIn = new BufferedReader(new InputStreamReader(Channels.newInputStream(qtest), StandardCharsets.ISO_8859_1));
            qmpIn = new BufferedReader(new InputStreamReader(Channels.newInputStream(qmp), StandardCharsets.UTF_8));
        }

        String qtest(String request) throws Exception {
            OutputStream o = Channels.newOutputStream(qtest);
            o.write((request + "\n").getBytes(StandardCharsets.ISO_8859_1));
            return readLine(qtestIn);
        }

        String qmp(String request) throws Exception {
            OutputStream o = Channels.newOutputStream(qmp);
            o.write((request + "\n").getBytes(StandardCharsets.UTF_8));
            return readLine(qmpIn);
        }

        @Override
        public void close() throws Exception {
            qtestListener.close();
            qmpListener.close();
            if (qtest != null) {
                qtest.close();
            }
            if (qmp != null) {
                qmp.close();
            }
        }
    }

    @Test
    void libqtestHandshakeThenSigtermExitsWithStatusZero() throws Exception {
        try (Libqtest t = new Libqtest()) {
            t.launchAndAccept();
            assertEquals("OK little", t.qtest("endianness"));
            assertTrue(readLine(t.qmpIn).startsWith("{\"QMP\": {\"version\": {\"qemu\": "));
            assertEquals("{\"return\": {}}", t.qmp("{\"execute\": \"qmp_capabilities\"}"));
            // libqos's pc allocator: FW_CFG_RAM_SIZE, little-endian, 128 MiB by default.
            assertEquals("OK", t.qtest("outw 0x510 0x3"));
            long ram = 0;
            for (int i = 0; i < 8; i++) {
                String r = t.qtest("inb 0x511");
                ram |= Long.parseLong(r.substring(5), 16) << (8 * i);
            }
            assertEquals(128L << 20, ram);
            assertEquals("OK 0x0000", t.qtest("inb 0x0"), "qtest_get_irq's flush read");
            process.destroy();   // SIGTERM
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "exits within libqtest's 30 s");
            assertEquals(0, process.exitValue());
        }
    }

    @Test
    void qmpQuitExitsWithStatusZero() throws Exception {
        try (Libqtest t = new Libqtest()) {
            t.launchAndAccept();
            readLine(t.qmpIn);
            t.qmp("{\"execute\": \"qmp_capabilities\"}");
            assertTrue(t.qmp("{\"execute\": \"quit\"}").contains("\"SHUTDOWN\""));
            assertEquals("{\"return\": {}}", readLine(t.qmpIn));
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, process.exitValue());
        }
    }

    @Test
    void endOfQtestInputDoesNotEndTheProcess() throws Exception {
        launch("-machine", "pc,accel=qtest", "-qtest", "stdio", "-qtest-log", "none", "-nodefaults", "-display", "none");
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1));
        OutputStream in = process.getOutputStream();
        in.write("endianness\n".getBytes(StandardCharsets.ISO_8859_1));
        in.flush();
        assertEquals("OK little", readLine(out));
        in.close();
        assertFalse(process.waitFor(700, TimeUnit.MILLISECONDS), "still running after EOF, as QEMU");
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue());
    }

    @Test
    void qtestLogAndTraceFilesAreWrittenAndFlushedAtExit() throws Exception {
        Path log = dir.resolve("qtest.log");
        Path trace = dir.resolve("trace.log");
        launch("-machine", "pc,accel=qtest", "-qtest", "stdio", "-qtest-log", log.toString(), "-trace",
                "enable=qtest_command", "-D", trace.toString(), "-display", "none");
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1));
        OutputStream in = process.getOutputStream();
        in.write("endianness\ninb 0x1234\n".getBytes(StandardCharsets.ISO_8859_1));
        in.flush();
        assertEquals("OK little", readLine(out));
        assertEquals("OK 0x00ff", readLine(out));
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue());
        List<String> lines = java.nio.file.Files.readAllLines(log);
        assertTrue(lines.get(0).matches("\\[I \\d+\\.\\d{6}\\] OPENED"), lines.toString());
        assertTrue(lines.get(1).matches("\\[R \\+\\d+\\.\\d{6}\\] endianness"), lines.toString());
        assertTrue(lines.get(2).matches("\\[S \\+\\d+\\.\\d{6}\\] OK little"), lines.toString());
        String traced = java.nio.file.Files.readString(trace);
        assertTrue(traced.matches("(?s)\\d+@\\d+\\.\\d{6}:qtest_command endianness\n\\d+@\\d+\\.\\d{6}:qtest_command inb 0x1234\n.*"),
                traced);
    }

    @Test
    void exitWithParentEndsTheProcessWhenItsParentDies() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The shell (ioemu's parent) ends only once ioemu has opened its QMP socket, i.e. after it
        // registered for its parent's exit: a JVM that starts slowly on a loaded machine must not
        // find its parent already gone (it would then watch the reaper instead).
        Path sock = dir.resolve("q.sock");
        Process shell = new ProcessBuilder("sh", "-c", "'" + java + "' -cp '" + System.getProperty("java.class.path")
                + "' " + Main.class.getName() + " -qtest null -qmp unix:" + sock + ",server=on,wait=off"
                + " -run-with exit-with-parent=on >/dev/null 2>&1 & echo $!; i=0; while [ ! -S '" + sock
                + "' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done").start();
        long pid = Long.parseLong(new BufferedReader(new InputStreamReader(shell.getInputStream())).readLine().trim());
        assertTrue(shell.waitFor(90, TimeUnit.SECONDS));
        assertTrue(sock.toFile().exists(), "ioemu started and opened its QMP socket");
        ProcessHandle child = ProcessHandle.of(pid).orElse(null);
        if (child != null) {
            assertTrue(child.onExit().get(30, TimeUnit.SECONDS) != null);
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "ioemu followed its parent");
    }

    @Test
    void badOptionExitsOneWithOneLineAndNoStackTrace() throws Exception {
        launch("-machine", "pc", "-drive", "file=x.img,if=scsi");
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, process.exitValue());
        String err = java.nio.file.Files.readString(dir.resolve("stderr"));
        assertEquals("ioemu: -drive file=x.img,if=scsi: interface if=scsi not supported (expected: ide, none)\n", err);
    }
}
