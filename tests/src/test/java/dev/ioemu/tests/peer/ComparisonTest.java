package dev.ioemu.tests.peer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The comparator on hand-made transcripts (no peer needed). */
class ComparisonTest {
    private static Exchange ex(Step s, String reply, String... irqs) {
        return new Exchange(s, List.of(irqs), reply, 1);
    }

    @Test
    void equalTranscriptsHaveNoDivergence() {
        Step a = Step.send("inb 0x1f7");
        Comparison c = Comparison.of(List.of(ex(a, "OK 0x0050", "IRQ raise 14")), List.of(ex(a, "OK 0x0050", "IRQ raise 14")));
        assertTrue(c.divergences().isEmpty());
    }

    @Test
    void differentReplyIsADivergenceUnlessAllowed() {
        Step plain = Step.send("inw 0x1f0");
        Step model = Step.send("inw 0x1f0", "identify:word:27");
        Comparison c = Comparison.of(List.of(ex(plain, "OK 0x0040"), ex(model, "OK 0x5145")),
                List.of(ex(plain, "OK 0x0041"), ex(model, "OK 0x494f")));
        assertEquals(1, c.divergences().size());
        assertEquals("reply", c.divergences().get(0).what());
        assertEquals(1, c.allowed().get("identify-strings"));
    }

    @Test
    void irqLevelsAreComparedOnlyAfterSettledSteps() {
        Step start = Step.start("outb 0x1f7 0x20");
        Step poll = Step.poll("inb 0x3f6", new Step.Poll(0x80, 0, true, 1000));
        // QEMU's completion IRQ arrived during the start step, ioemu's during the poll: same level at the end.
        Comparison same = Comparison.of(List.of(ex(start, "OK", "IRQ raise 14"), ex(poll, "OK 0x0058")),
                List.of(ex(start, "OK"), ex(poll, "OK 0x0058", "IRQ raise 14")));
        assertTrue(same.divergences().isEmpty(), same.report(5));
        Comparison missing = Comparison.of(List.of(ex(start, "OK", "IRQ raise 14"), ex(poll, "OK 0x0058")),
                List.of(ex(start, "OK"), ex(poll, "OK 0x0058")));
        assertEquals("IRQ levels after step", missing.divergences().get(0).what());
    }

    @Test
    void edgeSequencesMustMatchEvenWhenLevelsAgreeAtSettledSteps() {
        Step start = Step.start("outb 0x1f7 0xe7");
        Step poll = Step.poll("inb 0x3f6", new Step.Poll(0x80, 0, true, 1000));
        Step status = Step.send("inb 0x1f7");
        // ioemu raised and lowered twice where QEMU did it once; the levels still agree at the end.
        Comparison c = Comparison.of(
                List.of(ex(start, "OK", "IRQ raise 14"), ex(poll, "OK 0x0050"), ex(status, "OK 0x0050", "IRQ lower 14")),
                List.of(ex(start, "OK", "IRQ raise 14", "IRQ lower 14", "IRQ raise 14"), ex(poll, "OK 0x0050"),
                        ex(status, "OK 0x0050", "IRQ lower 14")));
        assertEquals(1, c.divergences().size(), c.report(5));
        assertEquals("IRQ 14 edge #2", c.divergences().get(0).what());
        assertEquals("no more edges", c.divergences().get(0).qemu());
        assertEquals("raise at step 0", c.divergences().get(0).ioemu());
    }

    @Test
    void exhaustedPollIsADivergence() {
        Step poll = Step.poll("inb 0x3f6", new Step.Poll(0x80, 0, true, 3));
        Comparison c = Comparison.of(List.of(new Exchange(poll, List.of(), "OK 0x0050", 1)),
                List.of(new Exchange(poll, List.of(), "OK 0x00d0", 3)));
        assertEquals(2, c.divergences().size());
    }

    @Test
    void everyAllowanceHasAReasonAndNamesItsField() {
        for (AllowedDifferences.Allowance a : AllowedDifferences.ALL) {
            assertTrue(a.reason().length() > 30, a.name());
            assertTrue(a.field().length() > 10, a.name());
        }
    }

    /** Whether the one differing step below is excused, and by which allowance. */
    private static String allowedBy(Step step, String qemu, String ioemu) {
        Comparison c = Comparison.of(List.of(ex(step, qemu)), List.of(ex(step, ioemu)));
        if (!c.divergences().isEmpty()) {
            return null;
        }
        return c.allowed().keySet().iterator().next();
    }

    @Test
    void identifyStringWordMayDifferOnlyInTextBytes() {
        Step model = Step.send("inw 0x1f0", "identify:word:27");
        assertEquals("identify-strings", allowedBy(model, "OK 0x5145", "OK 0x494f"));   // "QE" / "IO"
        assertNull(allowedBy(model, "OK 0x5145", "OK 0x0000"), "a NUL is not a string character");
        assertNull(allowedBy(model, "OK 0x5145", "FAIL"), "FAIL against OK is never allowed");
        assertNull(allowedBy(Step.send("inw 0x1f0", "identify:word:49"), "OK 0x5145", "OK 0x494f"),
                "word 49 is not a string field");
        assertNull(allowedBy(Step.send("inb 0x1f7", "identify:word:27"), "OK 0x51", "OK 0x49"),
                "the tag covers data-port word reads only");
    }

    @Test
    void absentPciFunctionMustReadAllOnesInIoemu() {
        Step id = Step.send("inl 0xcfc", "pci:piix4-pm");
        assertEquals("piix4-pm", allowedBy(id, "OK 0x71138086", "OK 0xffffffff"));
        assertNull(allowedBy(id, "OK 0x71138086", "OK 0x00138086"), "0x71 -> 0x00: not all-ones");
        assertNull(allowedBy(id, "OK 0x71138086", "OK 0x00000000"));
    }

    @Test
    void biosRomMayReadZerosInIoemuOnlyInsideTheRomRanges() {
        assertEquals("bios-rom", allowedBy(Step.send("readq 0xffff0", "memory:bios-rom"),
                "OK 0x00f000e05b00eaea", "OK 0x0000000000000000"));
        assertNull(allowedBy(Step.send("readq 0xffff0", "memory:bios-rom"), "OK 0x00f000e05b00eaea",
                "OK 0x0000000000000001"), "a non-zero ioemu byte is a divergence");
        assertNull(allowedBy(Step.send("readq 0x8000", "memory:bios-rom"), "OK 0x1", "OK 0x0"),
                "RAM below the ROM ranges");
        assertEquals("bios-rom", allowedBy(Step.send("b64read 0xfffffff0 0x4", "memory:bios-rom"),
                "OK 6lvgAA==", "OK AAAAAA=="));
    }

    @Test
    void fwCfgIdMayDifferOnlyInTheDmaBit() {
        Step id = Step.send("inb 0x511", "fw_cfg:id");
        assertEquals("fw-cfg-id", allowedBy(id, "OK 0x03", "OK 0x01"));
        assertNull(allowedBy(id, "OK 0x03", "OK 0x00"));
        assertEquals("fw-cfg-id", allowedBy(Step.send("inl 0x50f", "fw_cfg:id"), "OK 0xffff03ff", "OK 0xffff01ff"));
    }

    @Test
    void replyPayloadsDecodeByTheRequestsWidth() {
        assertArrayEquals(new byte[] {0x34, 0x12}, AllowedDifferences.payload("inw 0x1f0", "OK 0x1234"));
        assertArrayEquals(new byte[] {(byte) 0xab, 0x01}, AllowedDifferences.payload("read 0x0 0x2", "OK 0xab01"));
        assertNull(AllowedDifferences.payload("outb 0x80 0x1", "OK"));
        assertNull(AllowedDifferences.payload("inb 0x80", "FAIL bad"));
    }
}
