package dev.ioemu.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client flooding the monitors (issue 14, resource limits): while a guest on the software CPU
 * counts (a dot on the debug port every 65,536 LOOP iterations), a QMP client sends commands as
 * fast as it can and then a multi-megabyte string without an end; the guest must keep counting
 * in every second of the flood, the monitor must answer a well-formed command afterwards, and the
 * process's resident memory must stay bounded. Over qtest, thousands of pipelined commands are
 * all answered and a line longer than the limit gets qtest's FAIL without the server growing
 * past it. Prints the figures (dots per second before and during the flood, RSS).
 */
class FloodTest {
    static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    /** xor cx,cx; loop $; mov al,'.'; out 0xe9,al; jmp back to the loop. */
    static byte[] countingBootSector() {
        byte[] s = new byte[512];
        byte[] code = {0x31, (byte) 0xC9, (byte) 0xE2, (byte) 0xFE, (byte) 0xB0, 0x2E, (byte) 0xE6, (byte) 0xE9,
                (byte) 0xEB, (byte) 0xF8};
        System.arraycopy(code, 0, s, 0, code.length);
        s[510] = 0x55;
        s[511] = (byte) 0xAA;
        return s;
    }

    static void write(java.nio.channels.SocketChannel ch, byte[] data) throws java.io.IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    static long rssKib(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static long dots(Path debug) throws Exception {
        return Files.exists(debug) ? Files.size(debug) : 0;
    }

    /** Dots counted in each of {@code seconds} one-second windows. */
    static long[] windows(Path debug, int seconds) throws Exception {
        long[] w = new long[seconds];
        long last = dots(debug);
        for (int i = 0; i < seconds; i++) {
            Thread.sleep(1000);
            long now = dots(debug);
            w[i] = now - last;
            last = now;
        }
        return w;
    }

    @Test
    void aQmpFloodNeitherStallsTheGuestNorGrowsMemoryWithoutBound() throws Exception {
        Path img = dir.resolve("count.img");
        Files.write(img, countingBootSector());
        Path debug = dir.resolve("debug.txt");
        Path sock = dir.resolve("qmp.sock");
        try (Vm vm = Vm.start(dir, "count", Vm.ioemu(List.of("-accel", "soft", "-nodefaults", "-display", "none",
                "-drive", "file=" + img + ",if=ide,format=raw", "-debugcon", "file:" + debug,
                "-qmp", "unix:" + sock + ",server=on,wait=off")))) {
            try (Vm.Qmp qmp = vm.qmp(sock, 120)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (dots(debug) < 10 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertTrue(dots(debug) >= 10, "the guest never counted: " + vm.stderrText());
                long rssBefore = rssKib(vm.process.pid());
                long[] quiet = windows(debug, 3);

                // The flood: a writer that never waits, a reader that counts the replies.
                AtomicLong replies = new AtomicLong();
                // Straight to the channel: the Channels streams share one lock, so a stream write
                // would wait for the reader's blocked read.
                java.nio.channels.SocketChannel ch = qmp.channel;
                BufferedReader in = qmp.in;
                Thread reader = new Thread(() -> {
                    try {
                        String line;
                        while ((line = in.readLine()) != null) {
                            if (line.contains("\"probe\"")) {
                                replies.addAndGet(1L << 40);
                                return;
                            }
                            replies.incrementAndGet();
                        }
                    } catch (Exception ignored) {
                        // the connection closed: counted replies stand
                    }
                }, "qmp-reader");
                reader.start();
                long[] busy = new long[4];
                Thread writer = new Thread(() -> {
                    try {
                        byte[] burst = ("{\"execute\": \"query-status\"}\n{\"execute\": \"query-blockstats\"}\n"
                                + "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info block\"}}\n")
                                .repeat(200).getBytes(StandardCharsets.UTF_8);
                        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                        while (System.nanoTime() < end) {
                            write(ch, burst);
                        }
                        // then 16 MiB of a string that never ends, and the lexer reset (0xFF)
                        byte[] chunk = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
                        write(ch, "{\"execute\": \"query-status\", \"id\": \"".getBytes(StandardCharsets.US_ASCII));
                        for (int i = 0; i < 16; i++) {
                            write(ch, chunk);
                        }
                        write(ch, new byte[] {(byte) 0xFF});
                        write(ch, "\n{\"execute\": \"query-status\", \"id\": \"probe\"}\n".getBytes(StandardCharsets.UTF_8));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "qmp-flood");
                writer.start();
                busy = windows(debug, 4);
                writer.join(TimeUnit.SECONDS.toMillis(120));
                reader.join(TimeUnit.SECONDS.toMillis(120));
                long rssAfter = rssKib(vm.process.pid());
                long answered = replies.get() & ((1L << 40) - 1);
                boolean probe = replies.get() >= 1L << 40;
                System.out.printf("FloodTest QMP: dots/s quiet %s, during the flood %s; %d replies; probe answered %s;"
                                + " RSS %d MiB before, %d MiB after (load %s)%n", java.util.Arrays.toString(quiet),
                        java.util.Arrays.toString(busy), answered, probe, rssBefore / 1024, rssAfter / 1024,
                        Files.readString(Path.of("/proc/loadavg")).strip());
                for (int i = 0; i < busy.length; i++) {
                    assertTrue(busy[i] > 0, "second " + i + " of the flood: the guest made no progress");
                }
                assertTrue(answered > 1000, "the flood was answered: " + answered);
                assertTrue(probe, "a well-formed command after the flood is answered");
                assertTrue(rssAfter - rssBefore < 512 * 1024, "RSS grew by " + (rssAfter - rssBefore) / 1024 + " MiB");
                assertTrue(vm.process.isAlive(), vm.stderrText());
            }
        }
    }

    @Test
    void aQtestFloodIsAnsweredAndAnOverlongLineIsRefusedWithinItsLimit() throws Exception {
        Process p = new ProcessBuilder(Vm.ioemu(List.of("-machine", "pc,accel=qtest", "-nodefaults", "-display", "none",
                "-qtest", "stdio"))).redirectError(dir.resolve("qtest.stderr").toFile()).start();
        try {
            OutputStream out = p.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.ISO_8859_1));
            List<String> got = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try {
                    String line;
                    while ((line = in.readLine()) != null) {
                        synchronized (got) {
                            got.add(line.length() > 80 ? line.substring(0, 80) : line);
                        }
                    }
                } catch (Exception ignored) {
                    // end of the process
                }
            });
            reader.start();
            int commands = 20_000;
            out.write("readb 0x0\n".repeat(commands).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long rssBefore = rssKib(p.pid());
            // 160 MiB without a newline: over the 128 MiB + 4 KiB line limit (two 64 MiB transfers)
            byte[] chunk = "z".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
            long peak = rssBefore;
            for (int i = 0; i < 160; i++) {
                out.write(chunk);
                if (i % 16 == 15) {
                    peak = Math.max(peak, rssKib(p.pid()));
                }
            }
            out.write("\ninb 0x80\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                synchronized (got) {
                    if (got.size() >= commands + 2) {
                        break;
                    }
                }
                Thread.sleep(50);
            }
            peak = Math.max(peak, rssKib(p.pid()));
            List<String> lines;
            synchronized (got) {
                lines = new ArrayList<>(got);
            }
            System.out.printf("FloodTest qtest: %d pipelined commands, then a 160 MiB line: %d replies; RSS %d MiB before"
                    + " the line, peak %d MiB%n", commands, lines.size(), rssBefore / 1024, peak / 1024);
            assertEquals(commands + 2, lines.size(), "every command answered, then the long line, then inb");
            for (int i = 0; i < commands; i++) {
                assertTrue(lines.get(i).startsWith("OK 0x"), lines.get(i));
            }
            assertTrue(lines.get(commands).startsWith("FAIL line too long"), lines.get(commands));
            assertTrue(lines.get(commands + 1).startsWith("OK"), "the server is usable after it: " + lines.get(commands + 1));
            assertTrue(peak - rssBefore < 400 * 1024, "the line limit bounds memory: +" + (peak - rssBefore) / 1024 + " MiB");
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
    }
}
