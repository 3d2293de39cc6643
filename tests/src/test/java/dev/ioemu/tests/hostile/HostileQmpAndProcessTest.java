package dev.ioemu.tests.hostile;

import dev.ioemu.tools.IoTool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The hostile-input probe, second half: QMP JSON diffed against QEMU 7.2's replies byte for byte,
 * and the process-level inputs (signals, SIGKILL after a flush, second writers on a running VM's
 * image). Counts go to the same tally as {@link HostileInputTest}.
 */
class HostileQmpAndProcessTest {
    @TempDir
    Path dir;

    @AfterAll
    static void figure() {
        System.out.printf("hostile inputs: %d tried, %d survived%n", Survival.TRIED.get(), Survival.SURVIVED.get());
    }

    /** Hostile QMP lines (bytes as ISO-8859-1 chars); each is followed by a well-formed probe. */
    static final String[] QMP_LINES = {
            "{\"execute\":\"query-status\",\"id\":\"a", "{\"execute\":\"query-status\",\"id\":\"c\\",
            "{\"execute\":\"query-status\",\"id\":\"\\u12", "\u0000{\"execute\":\"query-status\",\"id\":\"nul\"}",
            "{'execute':'query-status','id':'sq'}", "{\"execute\":\"query-status\",\"id\":\"\\ud800\"}",
            "{\"execute\":\"query-status\",\"id\":\"\\udc00x\"}", "{\"execute\":\"query-status\",\"id\":\"\\ud83d\\ude00\"}",
            "{\"execute\":\"query-status\",\"id\":\"\u00ff\u00fe\"}", "{\"execute\":\"query-status\",\"id\":\"\u00c3(\"}",
            "{\"execute\":\"query-status\",\"id\":\"\u00ed\u00a0\u0080\"}", "{\"execute\":\"query-status\",\"id\":\"\\u0000\"}",
            "{\"execute\":\"query-status\",\"id\":\"\\q\"}", "{\"execute\":\"query-status\",\"id\":\"\\u12g4\"}",
            "{\"execute\":\"query-status\",\"arguments\":null,\"id\":1}", "{\"execute\":\"query-status\",\"id\":null}",
            "{\"exec-oob\":\"query-status\",\"id\":2}", "{\"execute\":\"query-status\",\"control\":true,\"id\":3}",
            "{\"execute\":\"query-blockstats\",\"arguments\":{\"query-nodes\":1},\"id\":5}",
            "{\"execute\":\"query-blockstats\",\"arguments\":{\"query-nodes\":\"yes\"},\"id\":6}",
            "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info status\"},\"id\":7}",
            "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"foo\"},\"id\":8}",
            "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":5},\"id\":9}",
            "{\"execute\":\"human-monitor-command\",\"id\":10}", "[1,2]", "\"str\"", "42", "true", "null",
            "{\"execute\":\"query-status\" \"id\":11}", "{\"execute\":\"query-status\",}", "{\"a\":tru}",
            "{\"execute\":\"query-status\",\"id\":01}", "{\"execute\":\"query-status\",\"id\":-}",
            "{\"execute\":\"query-status\",\"id\":1.5e}", "}", "]", "{\"execute\":\"query-status\",\"id\":[1,]}",
            "{\"execute\":\"query-status\",\"id\":{\"a\":1}}", "{\"execute\":\"query-status\",\"id\":1e400}",
            "{\"execute\":\"query-status\",\"id\":99999999999999999999}",
            "{\"execute\":\"query-status\",\"id\":-9223372036854775809}",
            "{\"execute\":\"query-status\",\"id\":18446744073709551615}", "{\"execute\":\"query-status\",\"id\":0.1}",
            "{\"execute\":1}", "{\"execute\":\"query-status\",\"arguments\":[]}", "{1:2}", "{\"a\":1,\"a\":2}",
            "@{\"execute\":\"query-status\",\"id\":\"at\"}", "{\"execute\":\"query-status\",\"id\":\"a\tb\"}",
            "{\"execute\":\"query-status\",\"id\":\"\\/\\b\\f\\n\\r\\t\\'\"}", "{\"execute\":\"query-status\",\"id\":'x\"y'}",
            "{\"execute\":\"nope\",\"id\":12}", "{\"execute\":\"qmp_capabilities\",\"id\":13}", "{}", "{\"id\":14}",
            "{\"execute\":\"query-status\",\"execute\":\"stop\"}", "{\"execute\":\"query-status\",\"arguments\":{\"x\":1}}",
            "[".repeat(1100) + "]".repeat(1100), "{\"a\":" + "[".repeat(50) + "]".repeat(50) + "}",
            "\u00ff", "\u00fe{\"execute\":\"query-status\",\"id\":\"fe\"}", "{\"execute\":\"query-status\",\"id\":\"\u007f\"}",
            "{\"execute\":\"query-status\",\"id\":\"\u00ef\u00b7\u0090\"}", "{\"execute\":\"query-status\",\"id\":\"\u00c0\u0080\"}",
            "{\"execute\":\"query-status\",\"id\":\"\u00c0\u00af\"}", "{\"execute\":\"query-status\",\"id\":\"\\uFFFE\"}",
            "{\"execute\":\"query-status\",\"id\":\"\\uDBFF\\uDFFF\"}", "-", "-0", "0.", "1e", "tru", "nul",
            "{\"execute\":\"cont\",\"arguments\":{\"a\":null}}", "{\"execute\":\"stop\",\"id\":[]}",
    };

    private static byte[] qmpInput() {
        StringBuilder in = new StringBuilder("{\"execute\":\"qmp_capabilities\"}\n");
        for (int i = 0; i < QMP_LINES.length; i++) {
            in.append(QMP_LINES[i]).append('\n');
            in.append("{\"execute\":\"query-status\",\"id\":\"probe-").append(i).append("\"}\n");
        }
        in.append("{\"execute\":\"quit\"}\n");
        return in.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The transcript without what legitimately differs: the greeting's version and timestamps. */
    private static List<String> normalise(String out) {
        List<String> lines = new ArrayList<>();
        for (String l : out.split("\r?\n")) {
            if (l.startsWith("{\"QMP\":") || l.isEmpty()) {
                continue;
            }
            lines.add(l.replaceAll("\"seconds\": \\d+, \"microseconds\": \\d+", "T"));
        }
        return lines;
    }

    /** Issue 8 items 3 and 7: every probe is answered, and every reply is QEMU 7.2's. */
    @Test
    void hostileQmpGetsQemusRepliesAndNeverSwallowsTheNextCommand() throws Exception {
        Processes.Result r = Processes.run(Processes.ioemu("-nodefaults", "-display", "none", "-S", "-qmp", "stdio"),
                qmpInput());
        List<String> ioemu = normalise(r.stdout());
        List<String> qemu = null;
        if (Processes.installed("qemu-system-x86_64")) {
            Processes.Result q = Processes.run(Processes.qemu("-qmp", "stdio"), qmpInput());
            qemu = q.hung() ? null : normalise(q.stdout());
        } else {
            System.out.println("QEMU comparison skipped: qemu-system-x86_64 not installed");
        }
        Survival s = new Survival("QMP JSON");
        String all = String.join("\n", ioemu);
        int from = 0;
        for (int i = 0; i < QMP_LINES.length; i++) {
            List<String> problems = new ArrayList<>();
            int probe = all.indexOf("\"id\": \"probe-" + i + "\"", from);
            if (probe < 0) {
                problems.add("the probe after it got no answer");
            } else {
                from = probe;
            }
            String line = QMP_LINES[i];
            s.record("QMP " + (line.length() > 50 ? line.substring(0, 50) + "..." : line), problems);
        }
        List<String> end = new ArrayList<>();
        if (r.hung() || r.status() != 0) {
            end.add("quit: status " + r.status() + (r.hung() ? " (hung)" : ""));
        }
        Survival.checkNoJavaText(r.stdout() + r.stderr(), end);
        if (qemu != null) {
            for (int i = 0; i < Math.max(qemu.size(), ioemu.size()); i++) {
                String a = i < qemu.size() ? qemu.get(i) : "(none)";
                String b = i < ioemu.size() ? ioemu.get(i) : "(none)";
                if (!a.equals(b)) {
                    end.add("reply " + i + " differs from QEMU's:\n  qemu:  " + a + "\n  ioemu: " + b);
                    break;
                }
            }
        }
        s.record("QMP transcript as a whole", end);
        s.assertAllSurvived();
    }

    /** A minimal qtest driver on a child process's stdio. */
    private static final class Vm implements AutoCloseable {
        final Process process;
        final BufferedReader in;
        final OutputStream out;
        final ByteArrayOutputStream err = new ByteArrayOutputStream();

        Vm(Path image, String cache) throws IOException {
            process = new ProcessBuilder(Processes.ioemu("-qtest", "stdio", "-qtest-log", "none", "-nodefaults",
                    "-display", "none", "-drive", "file=" + image + ",if=ide,format=raw,cache=" + cache)).start();
            in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
            out = process.getOutputStream();
            Processes.drain(process.getErrorStream(), err);
        }

        String command(String line) throws IOException {
            out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String reply;
            do {
                reply = in.readLine();
                if (reply == null) {
                    throw new IOException("the emulator closed qtest after: " + line + "; stderr: " + err);
                }
            } while (reply.startsWith("IRQ"));
            return reply;
        }

        int status() throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                int st = Integer.decode(command("inb 0x1f7").substring(3));
                if ((st & 0x80) == 0 || System.nanoTime() > deadline) {
                    return st;
                }
                Thread.sleep(1);
            }
        }

        /** WRITE SECTORS (PIO, LBA28) of one sector at {@code lba} filled with {@code word}. */
        int writeSector(int lba, int word) throws Exception {
            command("outb 0x1f6 0xe0");
            command("outb 0x1f2 0x01");
            command(String.format("outb 0x1f3 0x%x", lba & 0xff));
            command("outb 0x1f4 0x00");
            command("outb 0x1f5 0x00");
            command("outb 0x1f7 0x30");
            status();
            for (int i = 0; i < 256; i++) {
                command(String.format("outw 0x1f0 0x%x", word));
            }
            return status();
        }

        /** FLUSH CACHE; returns the status once BSY clears. */
        int flush() throws Exception {
            command("outb 0x1f7 0xe7");
            return status();
        }

        int signal(String name) throws Exception {
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
            if (!process.waitFor(Processes.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return -1;
            }
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static byte[] sector(Path image, int lba) throws IOException {
        return Arrays.copyOfRange(Files.readAllBytes(image), lba * 512, lba * 512 + 512);
    }

    private static boolean filledWith(byte[] sector, int word) {
        for (int i = 0; i < sector.length; i += 2) {
            if ((sector[i] & 0xff) != (word & 0xff) || (sector[i + 1] & 0xff) != (word >> 8)) {
                return false;
            }
        }
        return true;
    }

    /**
     * SIGKILL right after FLUSH CACHE completes loses nothing, and while the VM runs a second
     * writer is refused and leaves the image unchanged: ioemu-io, ioemu-io -U, a second ioemu,
     * and (the judge) qemu-io.
     */
    @ParameterizedTest
    @CsvSource({"writeback", "none", "directsync", "fadvise"})
    void flushedDataSurvivesSigkillAndSecondWritersAreRefused(String cache) throws Exception {
        Path image = dir.resolve("vm.img");
        Files.write(image, new byte[1 << 20]);
        Survival s = new Survival("SIGKILL and second writers, cache=" + cache);
        try (Vm vm = new Vm(image, cache)) {
            int written = vm.writeSector(5, 0xa55a);
            int flushed = vm.flush();
            List<String> problems = new ArrayList<>();
            if ((written & 0x89) != 0 || (flushed & 0x89) != 0x00 || (flushed & 0x40) == 0) {
                problems.add(String.format("status after write 0x%02x, after flush 0x%02x", written, flushed));
            }
            byte[] before = Files.readAllBytes(image);
            String[][] writers = {
                    {"ioemu-io", "-c", "write -P 0x22 0 512", image.toString()},
                    {"ioemu-io", "-U", "-c", "write -P 0x22 0 512", image.toString()},
                    {"ioemu-io", "-U", "-o", "locking=off", "-c", "write -P 0x22 0 512", image.toString()},
            };
            for (String[] w : writers) {
                List<String> p = new ArrayList<>();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int st = IoTool.run(Arrays.copyOfRange(w, 1, w.length), new PrintStream(new ByteArrayOutputStream()),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
                if (st == 0) {
                    p.add("a second writer was allowed");
                }
                Survival.checkNoJavaText(err.toString(StandardCharsets.UTF_8), p);
                if (!Arrays.equals(before, Files.readAllBytes(image))) {
                    p.add("image changed");
                }
                s.record(String.join(" ", w), p);
            }
            if (cache.equals("writeback")) {
                List<String> p = new ArrayList<>();
                Processes.Result second = Processes.run(Processes.ioemu("-qtest", "stdio", "-drive",
                        "file=" + image + ",if=ide,format=raw"), new byte[0]);
                if (second.status() != 1 || !second.stderr().contains("Failed to get \"write\" lock")) {
                    p.add("a second ioemu: status " + second.status() + ", " + second.stderr().strip());
                }
                Survival.checkNoJavaText(second.stderr(), p);
                s.record("a second ioemu on the same image", p);
                if (Processes.installed("qemu-io")) {
                    List<String> q = new ArrayList<>();
                    Processes.Result qio = Processes.run(List.of("qemu-io", "-f", "raw", "-c", "write -P 0x33 0 512",
                            image.toString()), new byte[0]);
                    if (qio.status() == 0) {
                        q.add("qemu-io wrote into the running VM's image: ioemu's locks are not QEMU's");
                    }
                    if (!Arrays.equals(before, Files.readAllBytes(image))) {
                        q.add("image changed");
                    }
                    s.record("qemu-io as a second writer", q);
                }
            }
            vm.close();   // SIGKILL
            vm.process.waitFor(Processes.TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!filledWith(sector(image, 5), 0xa55a)) {
                problems.add("the flushed sector is not in the image after SIGKILL");
            }
            s.record("SIGKILL after FLUSH CACHE, cache=" + cache, problems);
        }
        s.assertAllSurvived();
    }

    /** SIGTERM, SIGINT and SIGHUP end the VM with status 0 and its unflushed writes in the image (QEMU's behaviour). */
    @ParameterizedTest
    @CsvSource({"TERM", "INT", "HUP"})
    void terminatingSignalsFlushAndExitZero(String signal) throws Exception {
        Path image = dir.resolve("sig.img");
        Files.write(image, new byte[1 << 20]);
        Survival s = new Survival("SIG" + signal);
        List<String> problems = new ArrayList<>();
        try (Vm vm = new Vm(image, "writeback")) {
            vm.writeSector(7, 0x1234);
            int status = vm.signal(signal);
            if (status != 0) {
                problems.add("exit status " + status);
            }
            if (!filledWith(sector(image, 7), 0x1234)) {
                problems.add("the written sector is not in the image");
            }
            String err = vm.err.toString(StandardCharsets.UTF_8);
            Survival.checkNoJavaText(err, problems);
        }
        s.record("SIG" + signal + " after an unflushed write", problems);
        s.assertAllSurvived();
    }
}
