package dev.ioemu.tests.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The probe's INT 15h AX=E820h chain (one line {@code 15/E820#NN} per entry, shared/spec/int13.md
 * §8.3) compared as a block, because the two BIOSes may list a different number of entries.
 *
 * <p>ioemu's chain must be well-formed on its own: every call succeeds with EAX = EDX = 'SMAP',
 * ECX = 20 and nothing written past the 20 bytes; EBX is non-zero on every entry but the last and
 * 0 on the last; the entries are sorted, non-empty and non-overlapping; RAM starts at 0 and ends
 * below 640 KiB, and the RAM from 1 MiB up adds up to the machine's RAM less 1 MiB. Then SeaBIOS's
 * map, rewritten by the exact {@link ProbeAllowedDifferences#E820} transformations, must equal
 * ioemu's entry for entry, and every line's other registers must equal SeaBIOS's.
 */
final class ProbeE820Chain {
    static final String LINE_PREFIX = "15/E820#";
    private static final String SMAP = "534D4150";
    private static final long LOW_RAM_LIMIT = 0xA0000L;
    private static final long ONE_MIB = 0x10_0000L;
    static final int TYPE_RAM = 1;

    /** One map entry as the probe's buf field shows it (bytes 0-19, little-endian). */
    record Entry(long base, long length, int type) {
        long end() {
            return base + length;
        }

        static Entry of(ProbeLine line) {
            String buf = line.field("buf");
            return new Entry(le(buf, 0, 8), le(buf, 8, 8), (int) le(buf, 16, 4));
        }

        private static long le(String hex, int from, int bytes) {
            long v = 0;
            for (int i = bytes - 1; i >= 0; i--) {
                v = v << 8 | Integer.parseInt(hex.substring(2 * (from + i), 2 * (from + i) + 2), 16);
            }
            return v;
        }

        @Override
        public String toString() {
            return String.format("%X+%X type %d", base, length, type);
        }
    }

    private ProbeE820Chain() {
    }

    static boolean isChainLine(ProbeLine line) {
        return line.name().startsWith(LINE_PREFIX);
    }

    /** Divergences of ioemu's chain from SeaBIOS's on a machine with {@code ramBytes} of RAM. */
    static List<String> divergences(List<ProbeLine> qemu, List<ProbeLine> ioemu, long ramBytes) {
        List<String> out = new ArrayList<>();
        if (qemu.isEmpty() || ioemu.isEmpty()) {
            out.add("15/E820: chain of " + qemu.size() + " entries in QEMU, " + ioemu.size() + " in ioemu");
            return out;
        }
        for (int i = 0; i < ioemu.size(); i++) {
            compareRegisters(qemu.get(Math.min(i, qemu.size() - 1)), ioemu.get(i), i, ioemu.size(), out);
        }
        if (!out.isEmpty()) {
            return out;
        }
        List<Entry> mine = ioemu.stream().map(Entry::of).toList();
        checkWellFormed(mine, ramBytes, out);
        List<Entry> expected = ProbeAllowedDifferences.e820AsIoemuShouldReport(qemu.stream().map(Entry::of).toList());
        if (!expected.equals(mine)) {
            out.add("15/E820: map QEMU=" + qemu.stream().map(Entry::of).toList() + " (allowing the listed differences: "
                    + expected + ") ioemu=" + mine);
        }
        return out;
    }

    private static void compareRegisters(ProbeLine q, ProbeLine m, int index, int count, List<String> out) {
        String name = String.format("%s%02X", LINE_PREFIX, index);
        if (!m.name().equals(name)) {
            out.add("15/E820: entry " + index + " is named '" + m.name() + "' (expected '" + name + "')");
        }
        for (Map.Entry<String, String> f : q.fields().entrySet()) {
            String key = f.getKey();
            String value = m.fields().get(key);
            if (value == null) {
                out.add(m.name() + ": " + key + " missing in ioemu");
            } else if (key.equals("EBX")) {
                boolean last = index == count - 1;
                if (last != value.equals("00000000")) {
                    out.add(m.name() + ": EBX=" + value + (last ? " on the last entry (expected 0)" : " ends the chain early"));
                }
            } else if (key.equals("buf")) {
                // bytes 0-19 are the entry (checked as a map); the probe pre-fills CCh, so 20-23 must stay as SeaBIOS left them
                if (!value.substring(40).equals(f.getValue().substring(40))) {
                    out.add(m.name() + ": buf bytes 20-23 QEMU=" + f.getValue().substring(40) + " ioemu=" + value.substring(40));
                }
            } else if (!value.equals(f.getValue())) {
                out.add(m.name() + ": " + key + " QEMU=" + f.getValue() + " ioemu=" + value);
            }
        }
        if (!m.field("EAX").equals(SMAP) || !m.field("EDX").equals(SMAP) || !m.field("ECX").equals("00000014") || m.carry()) {
            out.add(m.name() + ": not a successful 20-byte E820 answer: " + m.text());
        }
    }

    private static void checkWellFormed(List<Entry> map, long ramBytes, List<String> out) {
        long ramAbove1M = 0;
        for (int i = 0; i < map.size(); i++) {
            Entry e = map.get(i);
            if (e.length() <= 0) {
                out.add("15/E820: empty entry " + e);
            }
            if (i > 0 && e.base() < map.get(i - 1).end()) {
                out.add("15/E820: " + e + " is not sorted after / overlaps " + map.get(i - 1));
            }
            if (e.type() == TYPE_RAM && e.base() >= ONE_MIB) {
                ramAbove1M += e.length();
            }
            if (e.type() == TYPE_RAM && e.base() < ONE_MIB && (e.base() != 0 || e.end() > LOW_RAM_LIMIT)) {
                out.add("15/E820: RAM below 1 MiB must be one entry from 0 ending at or below 640 KiB: " + e);
            }
        }
        if (map.isEmpty() || map.get(0).type() != TYPE_RAM || map.get(0).base() != 0) {
            out.add("15/E820: the map does not start with RAM at 0: " + map);
        }
        if (ramAbove1M != ramBytes - ONE_MIB) {
            out.add(String.format("15/E820: RAM from 1 MiB up is %X bytes (expected: %X for %d MiB of RAM)",
                    ramAbove1M, ramBytes - ONE_MIB, ramBytes >> 20));
        }
    }
}
