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

    // ---- the E820 chain, compared as a block ----

    private static final String E801 = "15/E801 EAX=00003C00 FL=0200";

    private static String e820(int index, int ebx, long base, long length, int type) {
        return String.format("15/E820#%02X EAX=534D4150 EBX=%08X ECX=00000014 EDX=534D4150 ESI=00000000 EDI=00006200"
                + " EBP=5A5A5A5A dSP=0000 DS=0000 ES=0000 FL=0200 40:74=01 40:75=01 buf=%s%s%sCCCCCCCC",
                index, ebx, le(base, 8), le(length, 8), le(type, 4));
    }

    private static String le(long v, int bytes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < bytes; i++) {
            b.append(String.format("%02X", (v >>> (8 * i)) & 0xFF));
        }
        return b.toString();
    }

    /** What QEMU 7.2 + SeaBIOS answer with the default 128 MiB. */
    private static List<ProbeLine> seabiosChain() {
        return lines(e820(0, 1, 0, 0x9FC00, 1), e820(1, 2, 0x9FC00, 0x400, 2), e820(2, 3, 0xF0000, 0x10000, 2),
                e820(3, 4, 0x100000, 0x7EE0000, 1), e820(4, 5, 0x7FE0000, 0x20000, 2),
                e820(5, 6, 0xFFFC0000L, 0x40000, 2), e820(6, 0, 0xFD_0000_0000L, 0x3_0000_0000L, 2), E801);
    }

    private static List<ProbeLine> ioemuChain(long ramAbove1M, long... extra) {
        List<String> l = new java.util.ArrayList<>(List.of(e820(0, 1, 0, 0x9FC00, 1), e820(1, 2, 0x9FC00, 0x400, 2),
                e820(2, 3, 0xF0000, 0x10000, 2), e820(3, 4, 0x100000, ramAbove1M, 1)));
        int next = 4;
        for (int k = 0; k < extra.length; k += 2) {
            l.add(e820(next, next + 1, extra[k], extra[k + 1], 2));
            next++;
        }
        l.add(e820(next, 0, 0xFFFC0000L, 0x40000, 2));
        l.add(E801);
        return lines(l.toArray(String[]::new));
    }

    @Test
    void e820ChainWithOnlyTheListedDifferencesPassesAndLaterLinesStayAligned() {
        assertEquals(List.of(), ProbeComparison.divergences(seabiosChain(), ioemuChain(0x7F00000)));
    }

    @Test
    void e820RamThatDoesNotMatchTheMachineIsADivergence() {
        List<String> d = ProbeComparison.divergences(seabiosChain(), ioemuChain(0x7EE0000));
        assertTrue(d.stream().anyMatch(s -> s.startsWith("15/E820: RAM from 1 MiB up is 7EE0000")), d.toString());
        assertTrue(d.stream().anyMatch(s -> s.startsWith("15/E820: map QEMU=")), d.toString());
    }

    @Test
    void e820EntryThatSeaBiosDoesNotListIsADivergence() {
        List<String> d = ProbeComparison.divergences(seabiosChain(), ioemuChain(0x7F00000, 0xFEC00000L, 0x1000));
        assertEquals(1, d.size(), d.toString());
        assertTrue(d.get(0).startsWith("15/E820: map QEMU="), d.get(0));
    }

    @Test
    void e820OverlappingEntriesAreADivergence() {
        List<String> d = ProbeComparison.divergences(seabiosChain(), ioemuChain(0x7F00000, 0x7F00000, 0x200000));
        assertTrue(d.stream().anyMatch(s -> s.contains("overlaps")), d.toString());
    }

    @Test
    void e820ChainNotEndedByEbxZeroIsADivergence() {
        List<ProbeLine> i = ioemuChain(0x7F00000);
        List<ProbeLine> broken = new java.util.ArrayList<>(i);
        broken.set(4, ProbeLine.parse(i.get(4).text().replace("EBX=00000000", "EBX=00000005")));
        List<String> d = ProbeComparison.divergences(seabiosChain(), broken);
        assertEquals(1, d.size(), d.toString());
        assertTrue(d.get(0).contains("on the last entry"), d.get(0));
    }
}
