package dev.ioemu.tests.peer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ioemu's PC platform chips against QEMU 7.2 over qtest: PIC, PIT, port 61h, RTC/CMOS, i8042 and
 * port 92h, every reply and every IRQ line compared. Both peers start their RTC at the same
 * {@code -rtc base=} on the VM clock, which stands still (QEMU runs {@code -S}, ioemu's qtest clock
 * moves only on request), so counters and time registers are deterministic. Scripted firmware
 * sequences first, then a seeded random run of at least {@value #OPERATIONS} requests
 * ({@code -Dioemu.diff.seed}, {@code -Dioemu.diff.ops} override); the seed is printed.
 * Differences on purpose are in {@link AllowedDifferences} (block "platform chips").
 */
class PlatformChipsDifferentialTest {
    static final int OPERATIONS = 20_000;
    static final long DEFAULT_SEED = 20261207L;
    static final List<String> ARGS = List.of("-rtc", "base=" + PlatformChipsSequenceGenerator.RTC_BASE + ",clock=vm");

    @TempDir
    Path dir;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    private Comparison run(Script script) throws Exception {
        return DifferentialRun.run(QtestPeer.Kind.QEMU, QtestPeer.Kind.IOEMU, script, null, image -> ARGS, dir);
    }

    private static Script script(String origin, String... lines) {
        Script s = new Script(origin);
        s.add(Step.send("irq_intercept_in ioapic"));
        for (String line : lines) {
            s.add(Step.send(line, line.equals("inb 0x61") ? "port61" : ""));
        }
        return s;
    }

    @Test
    void cmosContentsAndPowerOnRegisters() throws Exception {
        Script s = new Script("CMOS dump and power-on registers");
        for (int i = 0; i < 128; i++) {
            s.add(Step.send("outb 0x70 0x" + Integer.toHexString(i)));
            s.add(Step.send("inb 0x71"));
        }
        for (String line : new String[] {"inb 0x70", "inb 0x20", "inb 0x21", "inb 0xa0", "inb 0xa1", "inb 0x4d0",
                "inb 0x4d1", "inb 0x40", "inb 0x40", "inb 0x41", "inb 0x42", "inb 0x43", "inb 0x60", "inb 0x64",
                "inb 0x92", "inb 0x80"}) {
            s.add(Step.send(line));
        }
        Comparison c = run(s);
        assertTrue(c.divergences().isEmpty(), c.report(10));
    }

    @Test
    void seabiosPostSequence() throws Exception {
        // What SeaBIOS 1.16 does to the platform during POST (shared/spec/seabios.md §7.1, §7.4-7.6).
        Script s = script("SeaBIOS POST platform sequence",
                "outb 0x70 0x8f", "inb 0x71", "inb 0x92", "outb 0x92 0x02", "outb 0x70 0x8f", "outb 0x71 0x00",
                "outb 0x20 0x11", "outb 0xa0 0x11", "outb 0x21 0x08", "outb 0xa1 0x70", "outb 0x21 0x04",
                "outb 0xa1 0x02", "outb 0x21 0x01", "outb 0xa1 0x01", "outb 0x21 0xfb", "outb 0xa1 0xff",
                "outb 0x4d0 0x00", "outb 0x4d1 0x0c",
                "outb 0x43 0x34", "outb 0x40 0x00", "outb 0x40 0x00",
                "outb 0x70 0x8a", "outb 0x71 0x26", "outb 0x70 0x8b", "inb 0x71", "outb 0x70 0x8b", "outb 0x71 0x02",
                "outb 0x70 0x8c", "inb 0x71", "outb 0x70 0x8d", "inb 0x71", "outb 0x70 0x8a", "inb 0x71",
                "outb 0x70 0x80", "inb 0x71", "outb 0x70 0x82", "inb 0x71", "outb 0x70 0x84", "inb 0x71",
                "outb 0x70 0xb2", "inb 0x71", "outb 0x70 0x88", "inb 0x71", "outb 0x70 0xdf", "inb 0x71",
                "outb 0x21 0xb8", "outb 0xa1 0x8e",
                "inb 0x64", "outb 0x64 0xad", "outb 0x64 0xa7", "inb 0x64", "outb 0x64 0xaa", "inb 0x64", "inb 0x60",
                "outb 0x64 0xab", "inb 0x64", "inb 0x60", "outb 0x64 0x60", "outb 0x60 0x30", "outb 0x64 0x60",
                "outb 0x60 0x20", "outb 0x60 0xff", "inb 0x64", "inb 0x60", "inb 0x64", "inb 0x60",
                "outb 0x60 0xf5", "inb 0x60", "outb 0x60 0xf0", "inb 0x60", "outb 0x60 0x02", "inb 0x60",
                "outb 0x60 0xf4", "inb 0x60", "outb 0x64 0x60", "outb 0x60 0x61", "inb 0x64",
                "inb 0x20", "outb 0x20 0x0b", "inb 0x20", "outb 0x20 0x0c", "inb 0x20",
                // TSC calibration against counter 2 (no PM timer): gate on, mode 0, count 0x800.
                "inb 0x61", "outb 0x61 0x01", "outb 0x43 0xb0", "outb 0x42 0x00", "outb 0x42 0x08", "inb 0x61",
                "outb 0x43 0x80", "inb 0x42", "inb 0x42", "outb 0x43 0xe8", "inb 0x42");
        Comparison c = run(s);
        assertTrue(c.divergences().isEmpty(), c.report(10));
        assertTrue(c.allowed().getOrDefault("port61-refresh", 0) <= 2, c.allowed().toString());
    }

    @Test
    void writtenOutputPortKeepsItsBufferFullBitsAcrossACommandByteWrite() throws Exception {
        // Found by seed 17092794146884: D1h writes the output port with bit 4 (OBF) set while the
        // buffer is empty; QEMU keeps the written value until the buffer is loaded or read, and a
        // command byte write does not recompute it, so D0h reads 0x13 back. Reading that reply
        // empties the buffer, which clears bits 4/5: the next D0h reads 0x03.
        Script s = script("i8042 output port bits 4/5 after WRITE OUTPUT PORT",
                "outb 0x64 0xd1", "outb 0x60 0x13", "inb 0x64", "outb 0x64 0x60", "outb 0x60 0x61", "inb 0x64",
                "outb 0x64 0xd0", "inb 0x64", "inb 0x60", "inb 0x64", "outb 0x64 0xd0", "inb 0x60",
                "outb 0x64 0xd1", "outb 0x60 0x33", "outb 0x64 0x60", "outb 0x60 0x20", "outb 0x64 0xd0", "inb 0x60");
        Comparison c = run(s);
        assertTrue(c.divergences().isEmpty(), c.report(10));
    }

    @Test
    void clockSetWithTheSetBit() throws Exception {
        // A BIOS or OS setting the clock: SET on, time and date written (BCD, 12 h), SET off.
        Script s = script("RTC set with SET",
                "outb 0x70 0xb", "outb 0x71 0x80", "outb 0x70 0x0", "outb 0x71 0x43", "outb 0x70 0x2",
                "outb 0x71 0x59", "outb 0x70 0x4", "outb 0x71 0x91", "outb 0x70 0x7", "outb 0x71 0x28",
                "outb 0x70 0x8", "outb 0x71 0x02", "outb 0x70 0x9", "outb 0x71 0x99", "outb 0x70 0x32",
                "outb 0x71 0x19", "outb 0x70 0xb", "outb 0x71 0x12", "outb 0x70 0x0", "inb 0x71", "outb 0x70 0x2",
                "inb 0x71", "outb 0x70 0x4", "inb 0x71", "outb 0x70 0x6", "inb 0x71", "outb 0x70 0x7", "inb 0x71",
                "outb 0x70 0x8", "inb 0x71", "outb 0x70 0x9", "inb 0x71", "outb 0x70 0x32", "inb 0x71",
                "outb 0x70 0xb", "outb 0x71 0x16", "outb 0x70 0x4", "inb 0x71", "outb 0x70 0x2", "outb 0x71 0x5a",
                "outb 0x70 0x2", "inb 0x71", "outb 0x70 0x4", "inb 0x71");
        Comparison c = run(s);
        assertTrue(c.divergences().isEmpty(), c.report(10));
    }

    @Test
    void seededRandomPlatformChipTraffic() throws Exception {
        // A fixed default seed keeps CI deterministic (a failure replays as it happened); explore
        // others with -Dioemu.diff.seed=N. Seed 17092794146884 found the output-port case kept as
        // writtenOutputPortKeepsItsBufferFullBitsAcrossACommandByteWrite.
        long seed = Long.getLong("ioemu.diff.seed", DEFAULT_SEED);
        int ops = Integer.getInteger("ioemu.diff.ops", OPERATIONS);
        Script s = PlatformChipsSequenceGenerator.generate(seed, ops);
        Comparison c = run(s);
        System.out.println("PlatformChipsDifferentialTest: " + s.origin() + ", " + s.size() + " requests, "
                + c.divergences().size() + " divergences, allowed " + c.allowed());
        assertTrue(c.divergences().isEmpty(), s.origin() + "\n" + c.report(10));
        assertEquals(ops, Math.min(ops, s.size()));
    }
}
