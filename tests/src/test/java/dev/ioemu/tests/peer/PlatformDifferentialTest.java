package dev.ioemu.tests.peer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ioemu against QEMU 7.2 for what exists before IDE: qtest framing, memory commands, the ISA DMA
 * controllers, fw_cfg, unmapped ports and IRQ interception. Scripted cases first, then a seeded
 * random run of at least {@value #OPERATIONS} requests ({@code -Dioemu.diff.seed},
 * {@code -Dioemu.diff.ops} override); the seed is printed.
 */
class PlatformDifferentialTest {
    static final int OPERATIONS = 10_000;
    /** The seed CI runs, so a failure replays as it happened; {@code -Dioemu.diff.seed=N} explores others. */
    static final long DEFAULT_SEED = 20261208L;

    @TempDir
    Path dir;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    private Comparison run(Script script) throws Exception {
        return DifferentialRun.run(QtestPeer.Kind.QEMU, QtestPeer.Kind.IOEMU, script, null, image -> List.of(), dir);
    }

    private static void assertNoDivergence(Comparison c, Script s) {
        assertTrue(c.divergences().isEmpty(), s.origin() + "\n" + c.report(10));
    }

    @Test
    void scriptedFramingMemoryAndPorts() throws Exception {
        Script s = new Script("scripted platform sequence");
        for (String line : new String[] {
                "endianness", "inb 0x0", "inw 0x0", "inl 0x0", "inb 0x8", "inb 0x9",
                "outw 0x510 0x0", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511",
                "outw 0x510 0x3", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511", "inb 0x511",
                "inb 0x511", "inb 0x511", "inw 0x511", "inb 0x510", "inw 0x510",
                "readb 0x8000000", "readq 0x8000000", "read 0x7fffffe 4", "writeb 0x8000000 5", "readb 0x8000000",
                "writel 0x7fffffe 0x11223344", "read 0x7fffffc 8", "memset 0x7fffffe 4 0x99", "read 0x7fffffc 8",
                "write 0xbfffe 4 0x11223344", "read 0xbfffe 4", "b64read 0xbfffe 4", "writeb 0xc0000 0x12",
                "readb 0xc0000", "writeb 0xa0000 0x12", "readb 0xa0000",
                "read 0xfffffffffffffffe 4", "readq 0xfffffffffffffff8",
                "inb 0x1234", "inw 0x1234", "inl 0x1234",
                "outb 0x0 0x12", "outb 0x0 0x34", "inb 0x0", "inb 0x0", "inb 0x0", "outb 0xc 0", "inb 0x0",
                "outb 0xc0 0x55", "outb 0xc0 0x66", "inb 0xc0", "inb 0xc0", "inb 0xc1", "outb 0xc4 7", "inb 0xc4",
                "inb 0xc4", "outb 0x81 0x81", "inb 0x81", "inb 0x80", "inb 0x84",
                "b64read 0 0", "b64read 0 4", "read 0 1", "write 0 2 0x", "write 0 2 0xab", "read 0 4",
                "write 0 2 0xABCD", "read 0 2", "memset 0 0 1", "b64write 0 4 AAECAw==", "read 0 4",
                "b64write 0 4 A", "read 0 012", "readb 010",
                "module_load a b", "foo", "#x",
                "irq_intercept_in nodev", "irq_intercept_in /machine/ioapic", "set_irq_in nodev unnamed-gpio-in 3 1",
                "irq_intercept_in ioapic", "irq_intercept_in ioapic", "irq_intercept_out ioapic",
                "irq_intercept_in /machine/i440fx", "set_irq_in ioapic unnamed-gpio-in 3 1",
                "set_irq_in ioapic unnamed-gpio-in 3 5", "set_irq_in ioapic unnamed-gpio-in 3 0",
                "set_irq_in ioapic unnamed-gpio-in 2 -1",
        }) {
            s.add(Step.send(line));
        }
        s.add(Step.send("outw 0x510 0x1", "fw_cfg:id")).add(Step.send("inb 0x511", "fw_cfg:id"));
        s.add(Step.send("readq 0xffff0", "memory:bios-rom"));
        Comparison c = run(s);
        assertNoDivergence(c, s);
        assertNull(c.allowed().get("fw-cfg-id"), "FW_CFG_ID equals QEMU's now that fw_cfg has DMA");
        assertEquals(1, c.allowed().get("bios-rom"));
    }

    @Test
    void seededRandomPlatformTraffic() throws Exception {
        long seed = Long.getLong("ioemu.diff.seed", DEFAULT_SEED);
        int ops = Integer.getInteger("ioemu.diff.ops", OPERATIONS);
        Script s = PlatformSequenceGenerator.generate(seed, ops);
        System.out.println("PlatformDifferentialTest: " + s.origin() + ", " + s.size() + " requests");
        Comparison c = run(s);
        assertNoDivergence(c, s);
    }
}
