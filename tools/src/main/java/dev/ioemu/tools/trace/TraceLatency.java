package dev.ioemu.tools.trace;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * {@code ioemu-trace latency}: p50/p90/p99/max and a histogram per operation type and drive, from
 * every event that carries {@code lat_ns} (block requests and flushes, ATA commands completed,
 * BIOS calls, the BIOS's syncs). QEMU's events carry no latency, so a QEMU log yields none.
 */
final class TraceLatency implements Consumer<TraceRecord> {
    private final String driveGlob;
    private final Map<String, Histogram> series = new TreeMap<>();

    TraceLatency(String driveGlob) {
        this.driveGlob = driveGlob;
    }

    @Override
    public void accept(TraceRecord r) {
        if (!r.has("lat_ns")) {
            return;
        }
        String drive = r.drive();
        if (driveGlob != null && !TraceTool.glob(driveGlob, drive)) {
            return;
        }
        series.computeIfAbsent(operation(r) + "\t" + (drive == null ? "-" : drive), k -> new Histogram())
                .add(r.num("lat_ns", 0));
    }

    /** The operation a latency belongs to: the ATA command, the BIOS function, else the event. */
    static String operation(TraceRecord r) {
        return switch (r.event()) {
            case "ide_cmd_complete" -> "ATA " + AtaNames.of(r.num("cmd", -1));
            case "bios_call" -> String.format("INT %02Xh AH=%02Xh", r.num("int", 0), (r.num("ax", 0) >> 8) & 0xFF);
            default -> r.event().startsWith("blk_") ? "block " + r.event().substring(4) : r.event();
        };
    }

    Map<String, Histogram> series() {
        return series;
    }

    void report(PrintStream out) {
        if (series.isEmpty()) {
            out.println("latency: no event with a latency field (lat_ns) in these logs; QEMU's events carry none");
            return;
        }
        out.printf("%-28s %-14s %8s %10s %10s %10s %10s%n", "operation", "drive", "count", "p50 us", "p90 us", "p99 us",
                "max us");
        series.forEach((k, h) -> {
            String[] kd = k.split("\t");
            out.printf("%-28s %-14s %8d %10.1f %10.1f %10.1f %10.1f%n", kd[0], kd[1], h.count(), h.percentile(0.5) / 1e3,
                    h.percentile(0.9) / 1e3, h.percentile(0.99) / 1e3, h.max() / 1e3);
        });
        series.forEach((k, h) -> {
            out.println();
            out.println(k.replace('\t', ' ') + " (us):");
            printHistogram(h, 1000, out);
        });
    }

    /** Power-of-two buckets of {@code h}'s values divided by {@code unit}, as bars. */
    static void printHistogram(Histogram h, long unit, PrintStream out) {
        long[] p2 = h.powersOfTwo();
        long most = 0;
        int lo = 64;
        int hi = -1;
        for (int i = 0; i < 64; i++) {
            if (p2[i] > 0) {
                most = Math.max(most, p2[i]);
                lo = Math.min(lo, i);
                hi = i;
            }
        }
        for (int i = lo; i <= hi; i++) {
            double from = i == 0 ? 0 : (double) (1L << i) / unit;
            double to = (double) (1L << (i + 1)) / unit;
            int bar = (int) Math.round(40.0 * p2[i] / most);
            out.printf("  [%10s, %10s) %-40s %d%n", number(from), number(to), "#".repeat(bar), p2[i]);
        }
    }

    private static String number(double v) {
        return v == Math.rint(v) ? String.format("%d", (long) v) : String.format("%.3f", v);
    }
}
