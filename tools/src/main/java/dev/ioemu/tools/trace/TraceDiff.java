package dev.ioemu.tools.trace;

import dev.ioemu.devices.trace.TraceField;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code ioemu-trace diff A B}: aligns two traces of the same workload — ioemu against QEMU, or
 * two ioemu runs — by event sequence and shows the first divergence with context.
 *
 * <p>Only events both traces contain are compared (ioemu logs events QEMU has no counterpart for,
 * and the other way round), minus those the user ignores. Two events match when their names are
 * equal and every field both formats name, with comparable types, holds the same value; host
 * pointers, latencies, image paths and timestamps never take part, and an IDE register address is
 * compared as its offset in the register block (QEMU logs the port, ioemu the offset). Reads the logs twice, each time
 * streaming, so memory stays bounded.
 */
final class TraceDiff {
    /** Fields that differ between runs of the same workload by nature. */
    private static final Set<String> NEVER_COMPARED = Set.of("lat_ns", "image", "ret", "buf");

    private TraceDiff() {
    }

    /** @return 0 when the traces agree, 1 when they diverge */
    static int diff(Path a, Path b, int context, List<String> ignore, PrintStream out) throws IOException {
        Set<String> inA = eventNames(a);
        Set<String> inB = eventNames(b);
        Set<String> compared = new TreeSet<>(inA);
        compared.retainAll(inB);
        compared.removeIf(e -> ignore.stream().anyMatch(p -> TraceTool.glob(p, e)));
        Set<String> onlyA = new TreeSet<>(inA);
        onlyA.removeAll(inB);
        Set<String> onlyB = new TreeSet<>(inB);
        onlyB.removeAll(inA);
        out.println("comparing " + compared.size() + " event types both traces have" + (compared.isEmpty() ? "" : ": "
                + String.join(" ", compared)));
        if (!onlyA.isEmpty()) {
            out.println("only in A (not compared): " + String.join(" ", onlyA));
        }
        if (!onlyB.isEmpty()) {
            out.println("only in B (not compared): " + String.join(" ", onlyB));
        }
        TraceReader.Counts ca = new TraceReader.Counts();
        TraceReader.Counts cb = new TraceReader.Counts();
        Deque<TraceRecord[]> before = new ArrayDeque<>();
        long index = 0;
        try (TraceReader.Source sa = new TraceReader.Source(a, ca); TraceReader.Source sb = new TraceReader.Source(b, cb)) {
            while (true) {
                TraceRecord ra = next(sa, compared);
                TraceRecord rb = next(sb, compared);
                if (ra == null && rb == null) {
                    out.println("no divergence: " + index + " events agree");
                    return 0;
                }
                List<String> why = ra == null || rb == null ? List.of((ra == null ? "A" : "B") + " ends here")
                        : differences(ra, rb);
                if (why.isEmpty()) {
                    index++;
                    before.addLast(new TraceRecord[] {ra, rb});
                    if (before.size() > context) {
                        before.removeFirst();
                    }
                    continue;
                }
                out.println("first divergence at compared event #" + (index + 1) + ": " + String.join("; ", why));
                out.println("A: " + a);
                out.println("B: " + b);
                for (TraceRecord[] p : before) {
                    pair(" ", p[0], p[1], out);
                }
                pair(">", ra, rb, out);
                for (int i = 0; i < context; i++) {
                    TraceRecord na = ra == null ? null : next(sa, compared);
                    TraceRecord nb = rb == null ? null : next(sb, compared);
                    if (na == null && nb == null) {
                        break;
                    }
                    pair(" ", na, nb, out);
                    ra = na == null ? null : ra;
                    rb = nb == null ? null : rb;
                }
                return 1;
            }
        }
    }

    private static void pair(String mark, TraceRecord a, TraceRecord b, PrintStream out) {
        out.println(mark + " A " + describe(a));
        out.println(mark + " B " + describe(b));
    }

    private static String describe(TraceRecord r) {
        return r == null ? "(end)" : String.format("line %-8d %s %s", r.line(), r.event(), r.text());
    }

    private static TraceRecord next(TraceReader.Source s, Set<String> compared) throws IOException {
        TraceRecord r;
        while ((r = s.next()) != null) {
            if (compared.contains(r.event())) {
                return r;
            }
        }
        return null;
    }

    private static Set<String> eventNames(Path log) throws IOException {
        Set<String> names = new TreeSet<>();
        TraceReader.quiet().read(List.of(log), r -> names.add(r.event()));
        return names;
    }

    /** What differs between two events, field by field; empty if they match. */
    static List<String> differences(TraceRecord a, TraceRecord b) {
        List<String> out = new ArrayList<>();
        if (!a.event().equals(b.event())) {
            out.add("event " + a.event() + " vs " + b.event());
            return out;
        }
        if (a.format() == null || b.format() == null) {
            if (!a.text().equals(b.text())) {
                out.add("fields \"" + a.text() + "\" vs \"" + b.text() + "\"");
            }
            return out;
        }
        for (TraceField f : a.format().fields()) {
            if (NEVER_COMPARED.contains(f.name()) || f.type() == TraceField.Type.POINTER) {
                continue;
            }
            TraceField.Type tb = b.type(f.name());
            if (tb == null || tb == TraceField.Type.POINTER || numeric(f.type()) != numeric(tb)) {
                continue;
            }
            String va = value(a, f.name(), f.type());
            String vb = value(b, f.name(), tb);
            if (f.name().equals("addr") && a.event().startsWith("ide_") && numeric(f.type())) {
                // QEMU logs the I/O port (0x1f6), ioemu the register offset its device sees (0x6).
                va = "0x" + Long.toHexString(a.num("addr", 0) & 7);
                vb = "0x" + Long.toHexString(b.num("addr", 0) & 7);
            }
            if (!va.equals(vb)) {
                out.add(f.name() + " " + va + " vs " + vb);
            }
        }
        return out;
    }

    private static boolean numeric(TraceField.Type t) {
        return t == TraceField.Type.INT || t == TraceField.Type.HEX;
    }

    private static String value(TraceRecord r, String field, TraceField.Type t) {
        return t == TraceField.Type.HEX ? "0x" + Long.toHexString(r.num(field, 0))
                : t == TraceField.Type.INT ? Long.toString(r.num(field, 0)) : r.str(field);
    }
}
