package dev.ioemu.tests.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares the probe's lines from ioemu with QEMU's, line by line and field by field; differences
 * not covered by {@link ProbeAllowedDifferences} are divergences, reported one per field. The
 * E820 chain is taken out of both captures and compared as a block by {@link ProbeE820Chain}
 * (the BIOSes may list a different number of entries); the lines after it stay aligned.
 */
final class ProbeComparison {
    /** Both engines run the probe without -m: QEMU's pc default, which ioemu shares. */
    static final long DEFAULT_RAM_BYTES = 128L << 20;

    private ProbeComparison() {
    }

    static List<String> divergences(List<ProbeLine> qemu, List<ProbeLine> ioemu) {
        return divergences(qemu, ioemu, DEFAULT_RAM_BYTES);
    }

    /**
     * The outcome of one comparison: lines compared (those both captures have), differing fields a
     * listed allowance explains (plus the E820 rewrites that changed SeaBIOS's map), divergences.
     */
    record Summary(int linesCompared, int allowed, List<String> divergences) {
        @Override
        public String toString() {
            return linesCompared + " lines compared, " + allowed + " allowed differences, " + divergences.size() + " diverging";
        }
    }

    static List<String> divergences(List<ProbeLine> qemu, List<ProbeLine> ioemu, long ramBytes) {
        return compare(qemu, ioemu, ramBytes).divergences();
    }

    static Summary compare(List<ProbeLine> qemu, List<ProbeLine> ioemu, long ramBytes) {
        List<String> out = new ArrayList<>();
        int[] allowed = {0};
        List<ProbeLine> qemuChain = qemu.stream().filter(ProbeE820Chain::isChainLine).toList();
        List<ProbeLine> ioemuChain = ioemu.stream().filter(ProbeE820Chain::isChainLine).toList();
        if (!qemuChain.isEmpty() || !ioemuChain.isEmpty()) {
            out.addAll(ProbeE820Chain.divergences(qemuChain, ioemuChain, ramBytes));
            allowed[0] += ProbeAllowedDifferences.e820RewritesApplied(qemuChain.stream().map(ProbeE820Chain.Entry::of).toList());
        }
        List<Integer> qemuNumbers = lineNumbersOutsideChain(qemu);
        List<Integer> ioemuNumbers = lineNumbersOutsideChain(ioemu);
        List<ProbeLine> q = qemuNumbers.stream().map(k -> qemu.get(k - 1)).toList();
        List<ProbeLine> i = ioemuNumbers.stream().map(k -> ioemu.get(k - 1)).toList();
        compareLines(q, qemuNumbers, i, ioemuNumbers, out, allowed);
        int compared = Math.min(qemuChain.size(), ioemuChain.size()) + Math.min(q.size(), i.size());
        return new Summary(compared, allowed[0], List.copyOf(out));
    }

    /** 1-based numbers of the lines that are not part of the E820 chain. */
    private static List<Integer> lineNumbersOutsideChain(List<ProbeLine> lines) {
        List<Integer> numbers = new ArrayList<>();
        for (int k = 0; k < lines.size(); k++) {
            if (!ProbeE820Chain.isChainLine(lines.get(k))) {
                numbers.add(k + 1);
            }
        }
        return numbers;
    }

    private static void compareLines(List<ProbeLine> qemu, List<Integer> qemuNumbers, List<ProbeLine> ioemu,
                                     List<Integer> ioemuNumbers, List<String> out, int[] allowed) {
        int n = Math.max(qemu.size(), ioemu.size());
        for (int i = 0; i < n; i++) {
            if (i >= ioemu.size()) {
                out.add("line " + qemuNumbers.get(i) + " missing in ioemu: " + qemu.get(i).text());
                continue;
            }
            if (i >= qemu.size()) {
                out.add("line " + ioemuNumbers.get(i) + " only in ioemu: " + ioemu.get(i).text());
                continue;
            }
            ProbeLine q = qemu.get(i);
            ProbeLine m = ioemu.get(i);
            if (!q.name().equals(m.name())) {
                out.add("line " + qemuNumbers.get(i) + ": QEMU has '" + q.name() + "', ioemu '" + m.name() + "'");
                continue;
            }
            for (Map.Entry<String, String> f : q.fields().entrySet()) {
                String mine = m.fields().get(f.getKey());
                if (mine == null) {
                    out.add(q.name() + ": " + f.getKey() + " missing in ioemu");
                } else if (!mine.equals(f.getValue())) {
                    if (ProbeAllowedDifferences.explained(q.name(), f.getKey(), f.getValue(), mine)) {
                        allowed[0]++;
                    } else {
                        out.add(q.name() + ": " + f.getKey() + " QEMU=" + f.getValue() + " ioemu=" + mine);
                    }
                }
            }
            for (String key : m.fields().keySet()) {
                if (!q.fields().containsKey(key)) {
                    out.add(q.name() + ": " + key + " only in ioemu (" + m.fields().get(key) + ")");
                }
            }
        }
    }
}
