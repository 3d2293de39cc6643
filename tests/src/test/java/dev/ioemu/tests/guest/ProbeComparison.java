package dev.ioemu.tests.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares the probe's lines from ioemu with QEMU's, line by line and field by field; differences
 * not covered by {@link ProbeAllowedDifferences} are divergences, reported one per field.
 */
final class ProbeComparison {
    private ProbeComparison() {
    }

    static List<String> divergences(List<ProbeLine> qemu, List<ProbeLine> ioemu) {
        List<String> out = new ArrayList<>();
        int n = Math.max(qemu.size(), ioemu.size());
        for (int i = 0; i < n; i++) {
            if (i >= ioemu.size()) {
                out.add("line " + (i + 1) + " missing in ioemu: " + qemu.get(i).text());
                continue;
            }
            if (i >= qemu.size()) {
                out.add("line " + (i + 1) + " only in ioemu: " + ioemu.get(i).text());
                continue;
            }
            ProbeLine q = qemu.get(i);
            ProbeLine m = ioemu.get(i);
            if (!q.name().equals(m.name())) {
                out.add("line " + (i + 1) + ": QEMU has '" + q.name() + "', ioemu '" + m.name() + "'");
                continue;
            }
            for (Map.Entry<String, String> f : q.fields().entrySet()) {
                String mine = m.fields().get(f.getKey());
                if (mine == null) {
                    out.add(q.name() + ": " + f.getKey() + " missing in ioemu");
                } else if (!mine.equals(f.getValue()) && !ProbeAllowedDifferences.explained(q.name(), f.getKey(), f.getValue(), mine)) {
                    out.add(q.name() + ": " + f.getKey() + " QEMU=" + f.getValue() + " ioemu=" + mine);
                }
            }
            for (String key : m.fields().keySet()) {
                if (!q.fields().containsKey(key)) {
                    out.add(q.name() + ": " + key + " only in ioemu (" + m.fields().get(key) + ")");
                }
            }
        }
        return out;
    }
}
