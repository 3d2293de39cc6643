package dev.ioemu.emulator.qtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.qmp.QmpMonitor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Seeded parser fuzzing in process (issue 14): byte-level mutations of well-formed qtest lines,
 * QMP commands and command lines (with {@code -drive}/{@code -blockdev} strings), plus deep
 * nesting and huge numbers and strings. Each input must get the documented answer or a clear
 * error — qtest {@code OK}/{@code FAIL} lines, a QMP reply or error object, a
 * {@link UsageException} of one line — never another exception, never longer than the time
 * bound; and after each one a well-formed request is still answered. The pc machine itself
 * stands behind qtest and QMP. {@code -Dioemu.fuzz.seed=N} replays, {@code -Dioemu.fuzz.ops=N}
 * sets the inputs per parser.
 */
class ParserFuzzTest {
    static final long SEED = Long.getLong("ioemu.fuzz.seed", 20261207L);
    static final int INPUTS = Integer.getInteger("ioemu.fuzz.ops", 20_000);
    /** Any one input must be answered well within this. */
    static final long BOUND_NANOS = 5_000_000_000L;

    /** One byte-level mutation of {@code s}: flip, insert, delete, duplicate a run, or splice in a hostile token. */
    static String mutate(Random rnd, String s, String[] tokens) {
        StringBuilder b = new StringBuilder(s);
        int edits = 1 + rnd.nextInt(3);
        for (int e = 0; e < edits; e++) {
            int at = b.length() == 0 ? 0 : rnd.nextInt(b.length() + 1);
            switch (rnd.nextInt(6)) {
                case 0 -> {
                    if (at < b.length()) {
                        b.setCharAt(at, (char) (b.charAt(at) ^ (1 << rnd.nextInt(7))));
                    }
                }
                case 1 -> b.insert(at, (char) (rnd.nextInt(4) == 0 ? rnd.nextInt(32) : 32 + rnd.nextInt(95)));
                case 2 -> {
                    if (at < b.length()) {
                        b.deleteCharAt(at);
                    }
                }
                case 3 -> {
                    int end = Math.min(b.length(), at + 1 + rnd.nextInt(8));
                    b.insert(at, b.substring(at, end));
                }
                case 4 -> b.insert(at, tokens[rnd.nextInt(tokens.length)]);
                default -> b.setLength(Math.min(b.length(), at));   // truncated
            }
        }
        return b.toString();
    }

    static final String[] NUMBERS = {"0", "-1", "0x", "0xffffffffffffffff", "18446744073709551616", "99999999999999999999999",
            "1e999", "-0", "0777", "08", "0x1p3", "NaN", " ", ",", "=", "\"", "\\", "\u00ff", "%s", "\t"};

    @Nested
    class Qtest {
        static final String[] VALID = {"inb 0x1f7", "outb 0x80 0x12", "inw 0x1f0", "outw 0x510 0x19", "inl 0xcfc",
                "outl 0xcf8 0x80000000", "readb 0x400", "readw 0x7c00", "readl 0xfffffff0", "readq 0x0",
                "writeb 0x1000 0x5a", "writew 0x1000 0x1234", "writel 0x1000 0x12345678", "writeq 0x1000 0x1",
                "read 0x1000 0x10", "write 0x1000 0x4 0xdeadbeef", "b64read 0x1000 0x8", "b64write 0x1000 0x4 3q2+7w==",
                "memset 0x2000 0x100 0xff", "clock_step", "clock_step 1000", "clock_set 5000", "endianness",
                "irq_intercept_in ioapic", "set_irq_in ioapic 0 1", "module_load a b"};

        @Test
        void mutatedLinesAreAnsweredOkOrFailAndTheServerStaysUsable() {
            Random rnd = new Random(SEED);
            PcMachine machine = new PcMachine(16L << 20, true);
            QtestServer server = new QtestServer(machine, true, QtestLog.disabled());
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            server.open(wire);
            int ok = 0;
            int failed = 0;
            for (int i = 0; i < INPUTS; i++) {
                // (a line can hold any byte but the newline that ends it)
                String line = (rnd.nextInt(10) == 0 ? VALID[rnd.nextInt(VALID.length)]
                        : mutate(rnd, VALID[rnd.nextInt(VALID.length)], NUMBERS)).replace('\n', ' ');
                // Port I/O that resets or powers off the machine is a guest's right; over qtest it
                // only resets, which the next probe survives too.
                wire.reset();
                long t0 = System.nanoTime();
                try {
                    server.handle(line);
                } catch (RuntimeException e) {
                    fail("seed " + SEED + " input " + i + " '" + printable(line) + "': " + e);
                }
                long took = System.nanoTime() - t0;
                assertTrue(took < BOUND_NANOS, "input " + i + " '" + printable(line) + "' took " + took + " ns");
                String out = wire.toString(StandardCharsets.ISO_8859_1);
                String[] lines = out.split("\n");
                String reply = lines[lines.length - 1];
                // ERR: qtest.md's two documented cases (a write/b64write DATA token under 3 characters)
                assertTrue(reply.startsWith("OK") || reply.startsWith("FAIL") || reply.startsWith("ERR"),
                        "seed " + SEED + " input " + i + " '" + printable(line) + "': " + printable(out));
                for (String l : lines) {
                    assertTrue(l.startsWith("OK") || l.startsWith("FAIL") || l.startsWith("ERR") || l.startsWith("IRQ"),
                            printable(out));
                }
                if (reply.startsWith("OK")) {
                    ok++;
                } else {
                    failed++;
                }
                wire.reset();
                server.handle("readb 0x0");
                assertTrue(wire.toString(StandardCharsets.ISO_8859_1).startsWith("OK 0x"), "probe after input " + i);
            }
            System.out.printf("ParserFuzzTest qtest: seed %d, %d lines (%d OK, %d FAIL), a probe answered after each%n",
                    SEED, INPUTS, ok, failed);
            machine.shutdown();
        }
    }

    @Nested
    class Qmp {
        static final String[] VALID = {
                "{\"execute\": \"query-status\"}", "{\"execute\": \"query-block\"}", "{\"execute\": \"query-blockstats\"}",
                "{\"execute\": \"stop\"}", "{\"execute\": \"cont\"}", "{\"execute\": \"query-kvm\"}",
                "{\"execute\": \"query-commands\"}", "{\"execute\": \"system_reset\"}",
                "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"ide_*\"}}",
                "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"blk_*\", \"enable\": false}}",
                "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}",
                "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info block\"}}",
                "{\"execute\": \"query-status\", \"id\": [1, {\"a\": null}, true, 1.5e3]}",
                "[1, 2, {\"x\": \"\\u00e9\\n\"}]", "\"just a string\"", "{\"exec-oob\": \"query-status\"}"};
        static final String[] TOKENS = {"{", "}", "[", "]", ":", ",", "\"", "\\u", "\\ud800", "'", "null", "true",
                "1e99999", "-", "18446744073709551616", "\u00ff", "\u0000", "{\"execute\":", "\"arguments\": {}",
                "\"id\": 7", " ", "\n"};

        @Test
        void mutatedAndHostileJsonGetsAReplyAndAProbeAfterEachIsAnswered() throws Exception {
            Random rnd = new Random(SEED);
            ByteArrayOutputStream input = new ByteArrayOutputStream();
            write(input, "{\"execute\": \"qmp_capabilities\"}\n");
            List<String> inputs = new ArrayList<>();
            for (int i = 0; i < INPUTS; i++) {
                String s = rnd.nextInt(10) == 0 ? VALID[rnd.nextInt(VALID.length)]
                        : mutate(rnd, VALID[rnd.nextInt(VALID.length)], TOKENS);
                inputs.add(s);
            }
            // deep nesting, huge numbers and strings
            inputs.add("[".repeat(100_000));
            inputs.add("{\"a\":".repeat(50_000));
            inputs.add("{\"execute\": \"query-status\", \"id\": " + "9".repeat(100_000) + "}");
            inputs.add("{\"execute\": \"" + "q".repeat(2_000_000) + "\"}");
            inputs.add("{\"execute\": \"query-status\", \"id\": \"" + "x".repeat(1_000_000) + "\"}");
            inputs.add("\"" + "\\u0041".repeat(200_000));
            for (int i = 0; i < inputs.size(); i++) {
                input.write(inputs.get(i).getBytes(StandardCharsets.ISO_8859_1));
                // 0xFF resets the lexer (QEMU's json-lexer rule): whatever the input left open ends
                // here, so the probe is a request of its own.
                input.write(0xFF);
                write(input, "\n{\"execute\": \"query-status\", \"id\": \"probe-" + i + "\"}\n");
            }
            PcMachine machine = new PcMachine(16L << 20, true);
            List<String> quits = new ArrayList<>();
            QmpMonitor monitor = new QmpMonitor(machine, quits::add);
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            long t0 = System.nanoTime();
            monitor.serve(new Connection(new ByteArrayInputStream(input.toByteArray()), output, () -> { }));
            long took = System.nanoTime() - t0;
            String out = output.toString(StandardCharsets.UTF_8);
            assertFalse(out.contains("Exception") || out.contains("\tat "), "no Java exception text in replies");
            int probes = 0;
            int errors = 0;
            int from = 0;
            for (String line : out.split("\n")) {
                assertTrue(line.startsWith("{"), "every reply is a JSON object: " + printable(line));
                if (line.contains("\"error\"")) {
                    errors++;
                }
                if (line.contains("\"id\": \"probe-")) {
                    int n = Integer.parseInt(line.substring(line.indexOf("probe-") + 6, line.indexOf('"',
                            line.indexOf("probe-"))));
                    assertEquals(probes, n, "probes answered in order, none swallowed (input: '"
                            + printable(inputs.get(Math.min(n, inputs.size() - 1))) + "')");
                    assertTrue(line.contains("\"return\""), line);
                    probes++;
                }
                from++;
            }
            assertEquals(inputs.size(), probes, "a probe answered after every input");
            assertTrue(took < BOUND_NANOS * 12, "the whole session took " + took / 1_000_000 + " ms");
            System.out.printf("ParserFuzzTest QMP: seed %d, %d inputs (%d error replies), %d probes answered in %.1f s%n",
                    SEED, inputs.size(), errors, probes, took / 1e9);
            machine.shutdown();
        }
    }

    @Nested
    class CommandLines {
        static final String[][] VALID = {
                {"-machine", "pc,accel=qtest", "-qtest", "stdio", "-nodefaults", "-display", "none"},
                {"-drive", "file=a.img,if=ide,format=raw,cache=none,index=1,werror=stop,rerror=report"},
                {"-drive", "if=none,id=d0,file=a.img", "-device", "ide-hd,drive=d0,bus=ide.0,unit=1,serial=X"},
                {"-blockdev", "driver=file,node-name=f0,filename=a.img", "-device", "ide-hd,drive=f0"},
                {"-drive", "file=a.img,inject-error.0.iotype=flush,inject-error.0.errno=EIO,inject-error.0.once=on"},
                {"-m", "128M", "-serial", "file:s.txt", "-rtc", "base=2020-01-01T00:00:00,clock=vm", "-boot", "c"},
                {"-chardev", "socket,id=c0,path=q.sock,server=on,wait=off", "-mon", "chardev=c0,mode=control"},
                {"-qmp", "unix:q.sock,server=on,wait=off", "-trace", "enable=ide_*", "-D", "t.log"},
                {"-hda", "a.img", "-cdrom", "c.iso", "-accel", "soft", "-no-reboot"},
                {"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-debugcon", "file:d.txt"}};
        static final String[] TOKENS = {",", ",,", "=", "==", "0x", "-1", "99999999999999999999", "file=", "if=",
                "inject-error.", "inject-error.99999999999.", "id=", "node-name=", "\u0000", " ", "\n", "%n", "..",
                "nbd://", "nbd:unix:", "cache.direct=", "x-align=", "firmware-writes=", "on", "off"};

        @Test
        void mutatedCommandLinesParseOrGiveOneClearLine() {
            Random rnd = new Random(SEED);
            int accepted = 0;
            int refused = 0;
            for (int i = 0; i < INPUTS; i++) {
                String[] base = VALID[rnd.nextInt(VALID.length)].clone();
                int k = rnd.nextInt(base.length);
                base[k] = mutate(rnd, base[k], TOKENS);
                if (rnd.nextInt(20) == 0) {
                    base = java.util.Arrays.copyOf(base, rnd.nextInt(base.length + 1));
                }
                long t0 = System.nanoTime();
                try {
                    CommandLine.parse(base);
                    accepted++;
                } catch (UsageException e) {
                    String m = e.getMessage();
                    assertTrue(m != null && !m.isBlank(), "a message for " + String.join(" ", base));
                    assertFalse(m.contains("Exception") || m.contains("\tat "), printable(m));
                    refused++;
                } catch (RuntimeException e) {
                    fail("seed " + SEED + " input " + i + " " + printable(String.join(" ", base)) + ": " + e);
                }
                assertTrue(System.nanoTime() - t0 < BOUND_NANOS, printable(String.join(" ", base)));
            }
            System.out.printf("ParserFuzzTest command lines: seed %d, %d lines (%d accepted, %d refused with a message)%n",
                    SEED, INPUTS, accepted, refused);
            assertTrue(refused > 0 && accepted > 0, "both outcomes reached");
        }
    }

    /** Found by seed 20261207 (input 3005): a NUL byte in a path escaped as InvalidPathException. */
    @Test
    void aNulInAPathIsAUsageErrorNotACrash() {
        for (String[] args : new String[][] {{"-D", "t.\u0000l"}, {"-serial", "file:s\u0000"}, {"-bios", "\u0000"},
                {"-trace", "file=x\u0000"}}) {
            try {
                CommandLine.parse(args);
                fail(String.join(" ", args) + " was accepted");
            } catch (UsageException e) {
                assertTrue(e.getMessage().contains("invalid path"), e.getMessage());
            }
        }
    }

    static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(s.length(), 300); i++) {
            char c = s.charAt(i);
            b.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c & 0xFF));
        }
        return s.length() > 300 ? b + "…(" + s.length() + " chars)" : b.toString();
    }
}
