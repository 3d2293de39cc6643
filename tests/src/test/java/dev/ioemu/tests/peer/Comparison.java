package dev.ioemu.tests.peer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The diff of two transcripts of the same script: every reply compared, IRQ levels compared after
 * every settled step, differences explained by {@link AllowedDifferences} counted separately.
 */
public final class Comparison {
    /** One unexplained difference. */
    public record Divergence(int index, String request, String what, String qemu, String ioemu) {
        @Override
        public String toString() {
            return "#" + index + " " + request + " [" + what + "]: qemu '" + qemu + "' ioemu '" + ioemu + "'";
        }
    }

    private final List<Divergence> divergences = new ArrayList<>();
    private final Map<String, Integer> allowed = new LinkedHashMap<>();
    private final List<Exchange> qemu;
    private final List<Exchange> ioemu;

    private Comparison(List<Exchange> qemu, List<Exchange> ioemu) {
        this.qemu = qemu;
        this.ioemu = ioemu;
    }

    /** Compares two transcripts of one script (same steps in the same order). */
    public static Comparison of(List<Exchange> qemu, List<Exchange> ioemu) {
        Comparison c = new Comparison(qemu, ioemu);
        c.run();
        return c;
    }

    private void run() {
        int n = Math.min(qemu.size(), ioemu.size());
        if (qemu.size() != ioemu.size()) {
            divergences.add(new Divergence(n, "(end)", "transcript length", "" + qemu.size(), "" + ioemu.size()));
        }
        Map<Integer, Boolean> qemuIrq = new TreeMap<>();
        Map<Integer, Boolean> ioemuIrq = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            Exchange q = qemu.get(i);
            Exchange e = ioemu.get(i);
            Step step = q.step();
            if (!q.reply().equals(e.reply())) {
                AllowedDifferences.Allowance a = AllowedDifferences.explain(step, q.reply(), e.reply());
                if (a != null) {
                    allowed.merge(a.name(), 1, Integer::sum);
                } else {
                    divergences.add(new Divergence(i, step.request(), "reply", q.reply(), e.reply()));
                }
            }
            if (step.poll() != null && (q.tries() >= step.poll().maxTries() || e.tries() >= step.poll().maxTries())) {
                divergences.add(new Divergence(i, step.request(), "poll never satisfied",
                        q.tries() + " tries", e.tries() + " tries"));
            }
            apply(qemuIrq, q.irqLines());
            apply(ioemuIrq, e.irqLines());
            if (step.settled() && !raised(qemuIrq).equals(raised(ioemuIrq))) {
                divergences.add(new Divergence(i, step.request(), "IRQ levels after step",
                        raised(qemuIrq).toString(), raised(ioemuIrq).toString()));
                // Resynchronise so one missed edge is reported once, not at every later step.
                ioemuIrq.clear();
                ioemuIrq.putAll(qemuIrq);
            }
        }
    }

    private static void apply(Map<Integer, Boolean> levels, List<String> irqLines) {
        for (String line : irqLines) {
            String[] w = line.split(" ");
            levels.put(Integer.parseInt(w[2]), w[1].equals("raise"));
        }
    }

    private static List<Integer> raised(Map<Integer, Boolean> levels) {
        List<Integer> out = new ArrayList<>();
        levels.forEach((pin, high) -> {
            if (high) {
                out.add(pin);
            }
        });
        return out;
    }

    /** Records that the two images differ (first differing byte offsets, by sector). */
    public void imageDifference(String description) {
        divergences.add(new Divergence(-1, "(image)", "image bytes", description, ""));
    }

    public List<Divergence> divergences() {
        return divergences;
    }

    /** How often each allowed difference was seen, by allowance name. */
    public Map<String, Integer> allowed() {
        return allowed;
    }

    /** A report of the first divergences with the requests leading up to each. */
    public String report(int max) {
        StringBuilder sb = new StringBuilder();
        sb.append(divergences.size()).append(" unexplained divergence(s); allowed: ").append(allowed).append('\n');
        for (int k = 0; k < Math.min(max, divergences.size()); k++) {
            Divergence d = divergences.get(k);
            sb.append(d).append('\n');
            for (int i = Math.max(0, d.index() - 6); i < d.index() && i < qemu.size(); i++) {
                sb.append("    ").append(i).append(": ").append(qemu.get(i).step().request()).append(" -> qemu ")
                        .append(qemu.get(i).reply()).append(qemu.get(i).irqLines()).append(" / ioemu ")
                        .append(i < ioemu.size() ? ioemu.get(i).reply() + ioemu.get(i).irqLines() : "-").append('\n');
            }
        }
        return sb.toString();
    }
}
