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
        compareEdges(n);
    }

    /**
     * The IRQ edges of each pin over the whole run must be the same sequence in both transcripts:
     * which step an asynchronous edge arrives with depends on host timing, but the order of a
     * pin's raises and lowers does not.
     */
    private void compareEdges(int n) {
        Map<Integer, List<Integer>> qemuEdges = edges(qemu, n);
        Map<Integer, List<Integer>> ioemuEdges = edges(ioemu, n);
        java.util.Set<Integer> pins = new java.util.TreeSet<>(qemuEdges.keySet());
        pins.addAll(ioemuEdges.keySet());
        for (int pin : pins) {
            List<Integer> q = qemuEdges.getOrDefault(pin, List.of());
            List<Integer> e = ioemuEdges.getOrDefault(pin, List.of());
            int k = 0;
            while (k < q.size() && k < e.size() && (q.get(k) > 0) == (e.get(k) > 0)) {
                k++;
            }
            if (k < q.size() || k < e.size()) {
                int step = Math.abs(k < q.size() ? q.get(k) : e.get(k)) - 1;
                divergences.add(new Divergence(step, qemu.get(Math.min(step, n - 1)).step().request(),
                        "IRQ " + pin + " edge #" + k, describe(q, k), describe(e, k)));
            }
        }
    }

    /** Per pin: +(step+1) for a raise, -(step+1) for a lower, in arrival order. */
    private static Map<Integer, List<Integer>> edges(List<Exchange> transcript, int n) {
        Map<Integer, List<Integer>> out = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            for (String line : transcript.get(i).irqLines()) {
                String[] w = line.split(" ");
                out.computeIfAbsent(Integer.parseInt(w[2]), p -> new ArrayList<>())
                        .add(w[1].equals("raise") ? i + 1 : -(i + 1));
            }
        }
        return out;
    }

    private static String describe(List<Integer> edges, int k) {
        if (k >= edges.size()) {
            return "no more edges";
        }
        int e = edges.get(k);
        return (e > 0 ? "raise" : "lower") + " at step " + (Math.abs(e) - 1);
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

    /** Records exit statuses after SIGTERM other than 0. */
    public void exitStatus(int qemu, int ioemu) {
        divergences.add(new Divergence(-1, "(SIGTERM)", "exit status (expected: 0)", "" + qemu, "" + ioemu));
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
