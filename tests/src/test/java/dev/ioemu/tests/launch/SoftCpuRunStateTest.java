package dev.ioemu.tests.launch;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Run-state control of the software CPU through QMP and HMP, as QEMU's: {@code -S} keeps the CPU
 * before its first instruction (prelaunch), {@code cont}/{@code stop} resume and stop it between
 * instructions with RESUME/STOP events, virtual time stands still while it is stopped, and
 * {@code system_reset} sends RESET and restarts the guest through the reset vector with the
 * devices reset. The guest is a boot sector that prints the BIOS tick count (INT 08h, PIT channel
 * 0 at 18.2 Hz) on the debug console at every tick, waiting with {@code sti; hlt}.
 */
class SoftCpuRunStateTest {
    /** Ticks per second of the BIOS timer (PIT channel 0 with a divisor of 65536). */
    private static final double TICKS_PER_SECOND = 1193182.0 / 65536;

    @TempDir
    Path dir;

    @BeforeAll
    static void built() throws Exception {
        assumeTrue(onPath("nasm"), "skipped: nasm not installed (tests/setup.sh installs it)");
        Process p = new ProcessBuilder(ioemu().toString(), "-version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assumeTrue(p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0, "skipped: emulator/bin/ioemu -version failed");
    }

    static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }

    static Path ioemu() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("emulator/bin/ioemu"))) {
            p = p.getParent();
        }
        assumeTrue(p != null, "skipped: emulator/bin/ioemu not found above the working directory");
        return p.resolve("emulator/bin/ioemu");
    }

    /**
     * "BOOT s=XX": XX is COM1's scratch register as the boot sector finds it (then it writes A5h
     * there, so only a device reset brings 00 back); then "T=XXXX" at every timer tick.
     */
    private static final String TICKER = """
            org 0x7c00
            bits 16
                xor ax, ax
                mov ds, ax
                mov ss, ax
                mov sp, 0x7c00
                mov si, banner
                call print
                mov dx, 0x3ff
                in al, dx
                call hex8
                mov al, 0xa5
                out dx, al
                mov al, 10
                out 0xe9, al
                sti
            wait_tick:
                hlt
                mov ax, [0x46c]
                cmp ax, [last]
                je wait_tick
                mov [last], ax
                mov bx, ax
                mov si, tick
                call print
                mov al, bh
                call hex8
                mov al, bl
                call hex8
                mov al, 10
                out 0xe9, al
                jmp wait_tick
            print:
                lodsb
                or al, al
                jz .done
                out 0xe9, al
                jmp print
            .done:
                ret
            hex8:                       ; AL as two hex digits
                push ax
                shr al, 4
                call hex4
                pop ax
                and al, 0x0f
            hex4:
                add al, '0'
                cmp al, '9'
                jbe .out
                add al, 'a' - '9' - 1
            .out:
                out 0xe9, al
                ret
            banner: db "BOOT s=", 0
            tick: db "T=", 0
            last: dw 0xffff
                times 510-($-$$) db 0
                dw 0xaa55
            """;

    private Path disk() throws Exception {
        Path src = dir.resolve("ticker.asm");
        Files.writeString(src, TICKER);
        Path bin = dir.resolve("ticker.bin");
        Process p = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), src.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "nasm: " + out);
        byte[] image = new byte[1 << 20];
        byte[] code = Files.readAllBytes(bin);
        System.arraycopy(code, 0, image, 0, code.length);
        Path img = dir.resolve("ticker.img");
        Files.write(img, image);
        return img;
    }

    /** A QMP client that keeps the events it reads while waiting for returns. */
    private static final class Qmp implements AutoCloseable {
        private final SocketChannel channel;
        private final BufferedReader in;
        private final OutputStream out;
        final List<String> events = new ArrayList<>();

        Qmp(SocketChannel channel) throws Exception {
            this.channel = channel;
            this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            this.out = Channels.newOutputStream(channel);
            in.readLine();   // greeting
            assertEquals("{\"return\": {}}", execute("{\"execute\": \"qmp_capabilities\"}"));
        }

        /** Sends one command and returns its reply line; events read on the way are kept. */
        String execute(String command) throws Exception {
            out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            while (true) {
                String line = in.readLine();
                assertTrue(line != null, "QMP closed after " + command);
                if (!line.startsWith("{\"return\"") && !line.startsWith("{\"error\"")) {
                    events.add(line);
                } else {
                    return line;
                }
            }
        }

        /** Waits (reading the socket) until an event with {@code name} has arrived; returns it. */
        String awaitEvent(String name) throws Exception {
            while (true) {
                for (int i = 0; i < events.size(); i++) {
                    if (events.get(i).contains("\"event\": \"" + name + "\"")) {
                        return events.remove(i);
                    }
                }
                String line = in.readLine();
                assertTrue(line != null, "QMP closed while waiting for " + name);
                events.add(line);
            }
        }

        String hmp(String commandLine) throws Exception {
            return execute("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"" + commandLine + "\"}}");
        }

        @Override
        public void close() throws Exception {
            channel.close();
        }
    }

    private static List<String> lines(Path log) throws Exception {
        return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.ISO_8859_1) : List.of();
    }

    private static List<Integer> ticks(List<String> lines) {
        List<Integer> t = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("T=") && l.length() == 6) {
                t.add(Integer.parseInt(l.substring(2), 16));
            }
        }
        return t;
    }

    private static List<String> awaitLines(Path log, Predicate<List<String>> done, String what, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline && p.isAlive()) {
            List<String> l = lines(log);
            if (done.test(l)) {
                return l;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("waiting for " + what + "; debug console: " + lines(log));
    }

    private static void assertConsecutive(List<Integer> ticks, String what) {
        for (int i = 1; i < ticks.size(); i++) {
            assertEquals((ticks.get(i - 1) + 1) & 0xffff, (int) ticks.get(i), what + ": " + ticks);
        }
    }

    @Test
    void stopContAndSystemResetControlTheSoftwareCpuAsQemus() throws Exception {
        Path img = disk();
        Path sock = dir.resolve("qmp.sock");
        Path log = dir.resolve("debugcon.log");
        List<String> cmd = List.of(ioemu().toString(), "-accel", "soft", "-S", "-nodefaults", "-display", "none",
                "-m", "16", "-drive", "file=" + img + ",if=ide,format=raw", "-debugcon", "file:" + log,
                "-serial", "file:" + dir.resolve("com1.log"), "-qmp", "unix:" + sock + ",server=on,wait=off");
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile())
                .redirectOutput(dir.resolve("stdout").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!Files.exists(sock) && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(sock), "no QMP socket; stderr: " + Files.readString(dir.resolve("stderr")));
            try (Qmp qmp = new Qmp(connectWhenListening(sock, deadline))) {
                // -S: prelaunch, and not one instruction runs (the boot sector never prints).
                assertEquals("{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}",
                        qmp.execute("{\"execute\": \"query-status\"}"));
                Thread.sleep(500);
                assertEquals(List.of(), lines(log), "the guest ran before cont");

                long firstCont = System.nanoTime();
                assertEquals("{\"return\": {}}", qmp.execute("{\"execute\": \"cont\"}"));
                qmp.awaitEvent("RESUME");
                assertEquals("{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}",
                        qmp.execute("{\"execute\": \"query-status\"}"));
                awaitLines(log, l -> ticks(l).size() >= 3, "three ticks", p);

                // stop: the CPU stops between instructions and nothing more is printed.
                assertEquals("{\"return\": {}}", qmp.execute("{\"execute\": \"stop\"}"));
                long stoppedFrom = System.nanoTime();
                qmp.awaitEvent("STOP");
                assertEquals("{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}}",
                        qmp.execute("{\"execute\": \"query-status\"}"));
                Thread.sleep(300);   // a line the guest was writing when it stopped reaches the file
                List<String> atStop = lines(log);
                Thread.sleep(1500);
                assertEquals(atStop, lines(log), "the guest ran while stopped");
                List<Integer> before = ticks(atStop);
                int lastBeforeStop = before.get(before.size() - 1);

                // cont: ticks go on from where they stopped, and virtual time never runs ahead of
                // the host time the VM spent running (pacing only lets a guest that fell behind
                // catch up). Had virtual time run on while stopped (at least 1.8 s, 33 ticks), the
                // guest would have caught up on that too after cont.
                long stoppedTo = System.nanoTime();
                assertEquals("{\"return\": {}}", qmp.execute("{\"execute\": \"cont\"}"));
                qmp.awaitEvent("RESUME");
                Thread.sleep(1000);
                List<Integer> after = ticks(lines(log));
                double secondsRunning = ((System.nanoTime() - firstCont) - (stoppedTo - stoppedFrom)) / 1e9;
                List<Integer> resumedTicks = after.subList(before.size(), after.size());
                assertTrue(!resumedTicks.isEmpty(), "no tick after cont: " + after);
                assertEquals((lastBeforeStop + 1) & 0xffff, (int) resumedTicks.get(0), "the first tick after cont");
                assertConsecutive(after, "ticks across stop/cont");
                int span = after.size() - 1;
                assertTrue(span <= secondsRunning * TICKS_PER_SECOND + 2,
                        span + " ticks in " + secondsRunning + " s of running: virtual time ran while stopped");

                // system_reset: RESET, and the guest boots again through the BIOS with COM1 reset.
                assertEquals("{\"return\": {}}", qmp.execute("{\"execute\": \"system_reset\"}"));
                String reset = qmp.awaitEvent("RESET");
                assertTrue(reset.contains("\"event\": \"RESET\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}"),
                        reset);
                List<String> rebooted = awaitLines(log, l -> l.stream().filter(s -> s.startsWith("BOOT")).count() == 2
                        && ticks(l.subList(l.lastIndexOf("BOOT s=00"), l.size())).size() >= 2, "a second boot", p);
                assertEquals(List.of("BOOT s=00", "BOOT s=00"),
                        rebooted.stream().filter(s -> s.startsWith("BOOT")).toList(), "COM1's scratch register after reset");

                // The same through HMP.
                assertEquals("{\"return\": \"\"}", qmp.hmp("stop"));
                qmp.awaitEvent("STOP");
                assertEquals("{\"return\": \"VM status: paused\\r\\n\"}", qmp.hmp("info status"));
                Thread.sleep(300);
                List<String> hmpStopped = lines(log);
                Thread.sleep(700);
                assertEquals(hmpStopped, lines(log), "the guest ran after HMP stop");
                assertEquals("{\"return\": \"\"}", qmp.hmp("system_reset"));
                qmp.awaitEvent("RESET");
                // A reset of a stopped machine leaves it stopped (prelaunch, QEMU's rule) until c.
                assertEquals("{\"return\": \"VM status: paused (prelaunch)\\r\\n\"}", qmp.hmp("info status"));
                Thread.sleep(500);
                assertEquals(hmpStopped, lines(log), "the guest ran after a reset while stopped");
                assertEquals("{\"return\": \"\"}", qmp.hmp("c"));
                qmp.awaitEvent("RESUME");
                awaitLines(log, l -> l.stream().filter(s -> s.startsWith("BOOT")).count() == 3, "a third boot after c", p);
                assertEquals("{\"return\": \"VM status: running\\r\\n\"}", qmp.hmp("info status"));

                qmp.execute("{\"execute\": \"quit\"}");
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "ioemu did not exit after quit");
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("stderr")));
        } finally {
            p.destroyForcibly();
        }
    }

    /** Connects once the server listens (the socket file exists from bind(), a moment before listen()). */
    private static SocketChannel connectWhenListening(Path sock, long deadline) throws Exception {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(sock));
                return ch;
            } catch (java.net.ConnectException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}
