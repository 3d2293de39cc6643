package dev.ioemu.tests.guest;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe comparator on hand-made lines: it finds divergences and lets only listed differences pass. */
class ProbeComparisonTest {
    private static final String EDD_42 = "13/48 size=42 EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000080 ESI=00006000"
            + " EDI=00000000 EBP=5A5A5A5A dSP=0000 DS=0000 ES=0000 FL=0200 40:74=00 40:75=01 buf=";
    private static final String EDD_42_TAIL = "020082000000100000003F00000000000200000000000002C0F480D9DDBE2400000050434920"
            + "415441202020202000010100000000000000000000000000CC01CC";

    private static List<ProbeLine> lines(String... text) {
        return java.util.Arrays.stream(text).map(ProbeLine::parse).toList();
    }

    @Test
    void identicalCapturesHaveNoDivergence() {
        List<ProbeLine> q = lines("PROBE int13probe v1", EDD_42 + "1E00" + EDD_42_TAIL, "END");
        assertEquals(List.of(), ProbeComparison.divergences(q, q));
    }

    @Test
    void aListedDifferenceWithItsExactBytesIsAllowed() {
        List<ProbeLine> q = lines(EDD_42 + "1E00" + EDD_42_TAIL);
        List<ProbeLine> i = lines(EDD_42 + "4200" + EDD_42_TAIL.replace("C0F480D9", "00E000F0"));
        assertEquals(List.of(), ProbeComparison.divergences(q, i));
    }

    @Test
    void aListedFieldWithOtherBytesIsADivergence() {
        List<ProbeLine> q = lines(EDD_42 + "1E00" + EDD_42_TAIL);
        List<ProbeLine> i = lines(EDD_42 + "3000" + EDD_42_TAIL);   // 30h is not a size the HLE may return
        List<String> d = ProbeComparison.divergences(q, i);
        assertEquals(1, d.size(), d.toString());
        assertTrue(d.get(0).startsWith("13/48 size=42: buf QEMU=1E00"), d.get(0));
    }

    @Test
    void aDifferenceOutsideTheListedRangeIsADivergence() {
        List<ProbeLine> q = lines(EDD_42 + "1E00" + EDD_42_TAIL);
        List<ProbeLine> i = lines(EDD_42 + "4200" + EDD_42_TAIL.replace("3F000000", "20000000"));
        assertEquals(1, ProbeComparison.divergences(q, i).size());
    }

    @Test
    void registersFlagsAndMissingLinesAreDivergences() {
        List<ProbeLine> q = lines("13/00 reset EAX=00000000 FL=0200 40:74=00", "END");
        List<ProbeLine> i = lines("13/00 reset EAX=00000100 FL=0201 40:74=01");
        List<String> d = ProbeComparison.divergences(q, i);
        assertEquals(4, d.size(), d.toString());
        assertTrue(d.get(3).startsWith("line 2 missing in ioemu"), d.toString());
    }
}
