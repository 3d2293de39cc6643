package dev.ioemu.tests.peer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void everyAllowanceHasAReason() {
        for (AllowedDifferences.Allowance a : AllowedDifferences.ALL) {
            assertTrue(a.reason().length() > 30, a.name());
        }
    }
}
