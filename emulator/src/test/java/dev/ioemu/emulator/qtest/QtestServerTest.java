package dev.ioemu.emulator.qtest;

import dev.ioemu.emulator.testing.FakeMachine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The qtest protocol against a fake machine: reply formats (qtest.md §3), FAILs, IRQ ordering. */
class QtestServerTest {
    private FakeMachine machine;
    private QtestServer server;
    private ByteArrayOutputStream wire;

    @BeforeEach
    void start() {
        machine = new FakeMachine(false);
        server = new QtestServer(machine, true, QtestLog.disabled());
        wire = new ByteArrayOutputStream();
        server.open(wire);
    }

    /** Sends one request and returns every line it produced (IRQ lines, then the reply). */
    private List<String> request(String line) {
        wire.reset();
        server.handle(line);
        String out = wire.toString(StandardCharsets.ISO_8859_1);
        assertTrue(out.endsWith("\n"), "every line ends with LF: " + out);
        return new ArrayList<>(Arrays.asList(out.substring(0, out.length() - 1).split("\n", -1)));
    }

    private String reply(String line) {
        List<String> lines = request(line);
        assertEquals(1, lines.size(), "one reply line for '" + line + "': " + lines);
        return lines.get(0);
    }

    @Nested
    class PortIo {
        @Test
        void inReplyHasAtLeastFourHexDigits() {
            assertEquals("OK 0x0050", reply("inb 0x1f7"));
            assertEquals("OK 0x00ff", reply("inb 0x1234"));
            assertEquals("OK 0xffff", reply("inw 0x1234"));
            assertEquals("OK 0xffffffff", reply("inl 0x1234"));
        }

        @Test
        void outWritesTruncatedToTheAccessSize() {
            assertEquals("OK", reply("outl 0x500 0x12345678"));
            assertEquals("OK 0x12345678", reply("inl 0x500"));
            assertEquals("OK", reply("outb 0x500 0x1ff"));
            assertEquals("OK 0x00ff", reply("inl 0x500"));
        }

        @Test
        void numbersParseLikeStrtoulBaseZero() {
            assertEquals("OK", reply("outw 0x500 010"));      // octal
            assertEquals("OK 0x0008", reply("inw 1280"));       // decimal port
            assertEquals("OK", reply("outw 0x500 0XFF"));
            assertEquals("OK 0x00ff", reply("inw 0x500"));
        }
    }

    @Nested
    class Memory {
        @Test
        void readWidthsAlwaysSixteenDigits() {
            assertEquals("OK", reply("writeq 0x1000 0x1122334455667788"));
            assertEquals("OK 0x0000000000000088", reply("readb 0x1000"));
            assertEquals("OK 0x0000000000007788", reply("readw 0x1000"));
            assertEquals("OK 0x0000000055667788", reply("readl 0x1000"));
            assertEquals("OK 0x1122334455667788", reply("readq 0x1000"));
            assertEquals("OK 0x8877665544332211", reply("read 0x1000 8"));
        }

        @Test
        void readIsLowercaseHexInMemoryOrder() {
            assertEquals("OK", reply("write 0x2000 3 0xABcdEF"));
            assertEquals("OK 0xabcdef", reply("read 0x2000 3"));
        }

        @Test
        void writeWithMissingDigitsStoresZeros() {
            assertEquals("OK", reply("memset 0x3000 4 0xff"));
            assertEquals("OK", reply("write 0x3000 4 0xab"));
            assertEquals("OK 0xab000000", reply("read 0x3000 4"));
            assertEquals("OK", reply("write 0x3000 2 0xabc"));   // the odd digit has no partner
            assertEquals("OK 0xab00", reply("read 0x3000 2"));
        }

        @Test
        void shortDataTokenIsAnErrNotAFail() {
            assertEquals("ERR invalid argument size", reply("write 0 2 0x"));
            assertEquals("ERR invalid argument size", reply("b64write 0 4 A"));
        }

        @Test
        void base64RoundTrip() {
            assertEquals("OK", reply("b64write 0x4000 4 AAECAw=="));
            assertEquals("OK 0x00010203", reply("read 0x4000 4"));
            assertEquals("OK AAECAw==", reply("b64read 0x4000 4"));
            assertEquals("OK ", reply("b64read 0x4000 0"));
        }

        @Test
        void b64writeLongerThanDataWritesOnlyTheDecodedBytes() {
            assertEquals("OK", reply("memset 0x4000 8 0x77"));
            assertEquals("OK", reply("b64write 0x4000 8 AAECAw=="));
            assertEquals("OK 0x0001020377777777", reply("read 0x4000 8"));
        }

        @Test
        void memsetFillsWithTheLowByte() {
            assertEquals("OK", reply("memset 0x5000 3 0x1a5"));
            assertEquals("OK 0xa5a5a500", reply("read 0x5000 4"));
            assertEquals("OK", reply("memset 0x5000 0 0"));
        }

        @Test
        void beyondRamReadsZeroDropsWritesAndWrapsAt2To64AsQemu() {
            assertEquals("OK", reply("writel 0x1ffffe 0x11223344"));
            assertEquals("OK 0x0000443300000000", reply("read 0x1ffffc 8"));
            assertEquals("OK", reply("writeb 0x200000 5"));
            assertEquals("OK 0x0000000000000000", reply("readb 0x200000"));
            assertEquals("OK", reply("writeb 0 0x77"));
            // Replies observed from QEMU 7.2 for the same lines: each byte goes where its address
            // leads, and the address wraps past 2^64 to 0.
            assertEquals("OK 0x00007700", reply("read 0xfffffffffffffffe 4"));
            assertEquals("OK", reply("writel 0xfffffffffffffffe 0x11223344"));
            assertEquals("OK 0x0000000000000022", reply("readb 0"));
            assertEquals("OK 0x0000000011220000", reply("readl 0xfffffffffffffffe"));
            assertEquals("OK 0x0000000000002200", reply("readw 0xffffffffffffffff"));
            assertEquals("OK", reply("memset 0xffffffffffffffff 3 0x55"));
            assertEquals("OK 0x55550000", reply("read 0 4"));
            assertEquals("OK AFU=", reply("b64read 0xffffffffffffffff 2"));
            assertEquals("OK", reply("writew 0xffffffffffffffff 0xaabb"));
            assertEquals("OK 0xaa55", reply("read 0 2"));
            assertEquals("OK", reply("write 0xffffffffffffffff 4 0x01020304"));
            assertEquals("OK 0x02030400", reply("read 0 4"));
        }

        @Test
        void romHoleDropsWrites() {
            assertEquals("OK", reply("write 0xbfffe 4 0x11223344"));
            assertEquals("OK 0x11220000", reply("read 0xbfffe 4"));
        }
    }

    @Nested
    class Misc {
        @Test
        void endiannessIsLittle() {
            assertEquals("OK little", reply("endianness"));
        }

        @Test
        void unknownCommandNamesTheWord() {
            assertEquals("FAIL Unknown command 'foo'", reply("foo"));
            assertEquals("FAIL Unknown command '#x'", reply("#x"));
            assertEquals("FAIL Unknown command 'qom-tests'", reply("qom-tests"));
        }

        @Test
        void moduleLoadFails() {
            assertEquals("FAIL", reply("module_load block iscsi"));
        }

        @Test
        void clockCommandsNeedTheQtestAccelerator() {
            QtestServer tcg = new QtestServer(machine, false, QtestLog.disabled());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            tcg.open(out);
            tcg.handle("clock_step 10");
            tcg.handle("clock_set 10");
            assertEquals("FAIL Unknown command 'clock_step'\nFAIL Unknown command 'clock_set'\n",
                    out.toString(StandardCharsets.ISO_8859_1));
        }

        @Test
        void clockStepRunsExpiredTimersInOrderAndDrains() {
            List<String> ran = new ArrayList<>();
            machine.clock().newTimer("b", () -> ran.add("b")).arm(300);
            machine.clock().newTimer("a", () -> ran.add("a")).arm(100);
            assertEquals("OK 50", reply("clock_step 50"));
            assertEquals(List.of(), ran);
            assertEquals("OK 100", reply("clock_step"));   // to the next deadline
            assertEquals(List.of("a"), ran);
            assertEquals("OK 1000", reply("clock_set 1000"));
            assertEquals(List.of("a", "b"), ran);
            assertEquals("OK 1000", reply("clock_set 10"));   // 7.2: never moves back, answers the time
            assertEquals("OK 1000", reply("clock_step"));     // 7.2: no deadline, time unchanged
            assertTrue(machine.drains.get() >= 5);
        }
    }

    @Nested
    class Malformed {
        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "''|FAIL empty line (expected: a command)",
                "inb|FAIL inb: missing argument ADDR",
                "inb  0x1f7|FAIL invalid number '' for ADDR (expected: decimal, 0x hex or 0 octal)",
                "inb 0x10000|FAIL inb: port 0x10000 out of range (expected: 0 to 0xffff)",
                "inb -1|FAIL inb: port -1 out of range (expected: 0 to 0xffff)",
                "inb 0xzz|FAIL invalid number '0xzz' for ADDR (expected: decimal, 0x hex or 0 octal)",
                "inb 08|FAIL invalid number '08' for ADDR (expected: decimal, 0x hex or 0 octal)",
                "outb 0x80|FAIL outb: missing argument VALUE",
                "readq 0x100000000000000000|FAIL number '0x100000000000000000' for ADDR out of range (expected: below 2^64)",
                "read 0 0|FAIL read: SIZE must be > 0",
                "read 0 0x10000000|FAIL read: SIZE 0x10000000 too large (expected: at most 67108864)",
                "write 0 4 0xzz112233|FAIL write: invalid hex digit in DATA at byte 0",
                "memset 0 0x200000000 0|FAIL memset: SIZE 0x200000000 too large (expected: at most 4294967296)",
                "set_irq_in ioapic unnamed-gpio-in 30 1|FAIL set_irq_in: pin 30 out of range (expected: 0 to 23)",
                "set_irq_in ioapic foo 3 1|FAIL set_irq_in: GPIO list 'foo' not found (expected: unnamed-gpio-in)",
                "set_irq_in ioapic unnamed-gpio-in 3|FAIL set_irq_in: missing argument LEVEL",
                "irq_intercept_in|FAIL irq_intercept_in: missing argument QOM-PATH",
                "clock_step x|FAIL invalid number 'x' for NS (expected: decimal, 0x hex or 0 octal)",
                "clock_set|FAIL clock_set: missing argument NS",
        })
        void answersFailInsteadOfAborting(String line, String expected) {
            assertEquals(expected, reply(line));
            assertEquals("OK little", reply("endianness"), "the server keeps serving");
        }

        @Test
        void trailingCarriageReturnStaysInTheLastToken() {
            assertEquals("FAIL invalid number '0x1f7\r' for ADDR (expected: decimal, 0x hex or 0 octal)",
                    reply("inb 0x1f7\r"));
        }

        @ParameterizedTest
        @ValueSource(strings = {" ", "  ", "\t", "\u00ff\u00fe", "inb 0x1f7 extra words are ignored"})
        void oddLinesGetExactlyOneReply(String line) {
            assertEquals(1, request(line).size());
        }
    }

    @Nested
    class Irqs {
        @Test
        void nothingIsReportedBeforeInterception() {
            assertEquals("OK", reply("outb 0x1f7 1"));
        }

        @Test
        void irqLineComesBeforeTheReplyOfTheRequestThatCausedIt() {
            assertEquals("OK", reply("irq_intercept_in ioapic"));
            assertEquals(List.of("IRQ raise 14", "OK"), request("outb 0x1f7 1"));
            assertEquals(List.of("OK"), request("outb 0x1f7 1"), "a repeated raise sends nothing");
            assertEquals(List.of("IRQ lower 14", "OK"), request("outb 0x1f7 0"));
        }

        @Test
        void interceptionRulesMatchQemu() {
            assertEquals("FAIL Unknown device", reply("irq_intercept_in nodev"));
            assertEquals("FAIL Unknown device", reply("irq_intercept_in /machine/ioapic"));
            assertEquals("OK", reply("irq_intercept_in /machine/i440fx/ioapic"));
            assertEquals("OK", reply("irq_intercept_in ioapic"), "same device again");
            assertEquals("FAIL IRQ intercept already enabled", reply("irq_intercept_in i440fx"));
            assertEquals("FAIL IRQ intercept already enabled", reply("irq_intercept_out i440fx"));
            assertEquals("FAIL Interception of named in-GPIOs not yet supported", reply("irq_intercept_in ioapic x"));
        }

        @Test
        void setIrqInIsReportedWhenIntercepted() {
            assertEquals("OK", reply("irq_intercept_in ioapic"));
            assertEquals(List.of("IRQ raise 3", "OK"), request("set_irq_in ioapic unnamed-gpio-in 3 -1"));
            assertEquals(List.of("IRQ raise 3", "OK"), request("set_irq_in ioapic unnamed-gpio-in 3 5"),
                    "QEMU compares int levels: -1 then 5 is a new raise");
            assertEquals(List.of("OK"), request("set_irq_in ioapic unnamed-gpio-in 3 5"));
            assertEquals(List.of("IRQ lower 3", "OK"), request("set_irq_in ioapic unnamed-gpio-in 3 0"));
            assertEquals("FAIL Unknown device", reply("set_irq_in nodev unnamed-gpio-in 3 1"));
        }

        @Test
        void completionOnAnotherThreadIsSentBetweenRequests() throws Exception {
            machine.asyncDelayMillis = 500;   // long enough that the reply is surely written first
            assertEquals("OK", reply("irq_intercept_in ioapic"));
            wire.reset();
            server.handle("outb 0x177 1");
            assertEquals("OK\n", wire.toString(StandardCharsets.ISO_8859_1), "completion still pending");
            machine.drain();
            // The IRQ line goes out from qtest's writer thread: give it a bounded moment to land.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!wire.toString(StandardCharsets.ISO_8859_1).contains("IRQ") && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals("OK\nIRQ raise 15\n", wire.toString(StandardCharsets.ISO_8859_1));
        }

        @Test
        void clockStepWaitsForCompletionsSoTheirIrqPrecedesItsReply() {
            assertEquals("OK", reply("irq_intercept_in ioapic"));
            assertEquals(List.of("OK"), request("outb 0x177 1"));
            assertEquals(List.of("IRQ raise 15", "OK 0"), request("clock_step 0"));
        }

        @Test
        void reopeningForgetsReportedLevels() {
            assertEquals("OK", reply("irq_intercept_in ioapic"));
            assertEquals(List.of("IRQ raise 14", "OK"), request("outb 0x1f7 1"));
            server.open(wire);
            assertEquals(List.of("IRQ raise 14", "OK"), request("outb 0x1f7 1"));
        }
    }

    /** Seeded garbage never crashes the server and always gets exactly one reply line. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 20261130})
    void fuzzedLinesEachGetOneReplyAndNoInternalError(long seed) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        String[] words = {"inb", "inw", "inl", "outb", "outw", "outl", "readb", "readw", "readl", "readq", "writeb",
                "writeq", "read", "write", "b64read", "b64write", "memset", "clock_step", "clock_set",
                "irq_intercept_in", "irq_intercept_out", "set_irq_in", "endianness", "module_load", "ioapic",
                "unnamed-gpio-in", "0x", "0x1f7", "0xffff", "0x10000", "-1", "0", "010", "08", "99999999999999999999999",
                "0xffffffffffffffff", "0x7ffffff0", "AAECAw==", "=", "", " ", "\t", "\u00ff", "#", "0x1ffffe", "24", "14"};
        for (int i = 0; i < 20_000; i++) {
            StringBuilder line = new StringBuilder();
            int n = rnd.nextInt(0, 6);
            for (int k = 0; k < n; k++) {
                if (k > 0) {
                    line.append(rnd.nextInt(10) == 0 ? "  " : " ");
                }
                line.append(words[rnd.nextInt(words.length)]);
            }
            List<String> lines = request(line.toString());
            lines.removeIf(l -> l.startsWith("IRQ "));
            assertEquals(1, lines.size(), "'" + line + "' -> " + lines);
            assertTrue(!lines.get(0).startsWith("FAIL internal error"), "'" + line + "' -> " + lines.get(0));
        }
    }

    @Test
    void overlongLineIsRefusedAndTheNextLineServed() throws Exception {
        QtestServer small = new QtestServer(machine, true, QtestLog.disabled(), 1000);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String input = "read 0 4 " + "x".repeat(200_000) + "\nendianness\n";
        small.serve(new dev.ioemu.devices.chardev.Connection(
                new java.io.ByteArrayInputStream(input.getBytes(StandardCharsets.ISO_8859_1)), out, () -> { }));
        assertEquals("FAIL line too long (expected: at most 1000 bytes)\nOK little\n",
                out.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void logHasQemuFormat() {
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        QtestServer logged = new QtestServer(machine, true,
                QtestLog.to(new PrintStream(logBytes, true, StandardCharsets.ISO_8859_1)));
        logged.open(new ByteArrayOutputStream());
        logged.handle("irq_intercept_in ioapic");
        logged.handle("outb 0x1f7 1");
        String[] lines = logBytes.toString(StandardCharsets.ISO_8859_1).split("\n");
        assertTrue(lines[0].matches("\\[I \\d+\\.\\d{6}\\] OPENED"), lines[0]);
        assertTrue(lines[1].matches("\\[R \\+\\d+\\.\\d{6}\\] irq_intercept_in ioapic"), lines[1]);
        assertTrue(lines[2].matches("\\[S \\+\\d+\\.\\d{6}\\] OK"), lines[2]);
        assertTrue(lines[3].matches("\\[R \\+\\d+\\.\\d{6}\\] outb 0x1f7 1"), lines[3]);
        assertTrue(lines[4].matches("\\[S \\+\\d+\\.\\d{6}\\] IRQ raise 14"), lines[4]);
        assertTrue(lines[5].matches("\\[S \\+\\d+\\.\\d{6}\\] OK"), lines[5]);
    }
}
