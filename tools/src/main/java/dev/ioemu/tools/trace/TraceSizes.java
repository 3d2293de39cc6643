package dev.ioemu.tools.trace;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/** {@code ioemu-trace sizes}: request-size histograms per path, operation and drive. */
final class TraceSizes implements Consumer<TraceRecord> {
    private final String driveGlob;
    private final Map<String, Histogram> series = new TreeMap<>();

    TraceSizes(String driveGlob) {
        this.driveGlob = driveGlob;
    }

    @Override
    public void accept(TraceRecord r) {
        IoOp io = IoOp.of(r);
        if (io == null || io.op().equals("flush") || io.failed()) {
            return;
        }
        if (driveGlob != null && !TraceTool.glob(driveGlob, io.drive())) {
            return;
        }
        series.computeIfAbsent(io.path() + " " + io.op() + "\t" + io.drive(), k -> new Histogram()).add(io.bytes());
    }

    Map<String, Histogram> series() {
        return series;
    }

    void report(PrintStream out) {
        if (series.isEmpty()) {
            out.println("sizes: no read, write or discard requests in these logs");
            return;
        }
        out.printf("%-22s %-14s %8s %14s %10s %10s %10s%n", "request", "drive", "count", "bytes", "min", "p50", "max");
        series.forEach((k, h) -> {
            String[] kd = k.split("\t");
            out.printf("%-22s %-14s %8d %14d %10d %10d %10d%n", kd[0], kd[1], h.count(), h.sum(), h.min(),
                    h.percentile(0.5), h.max());
        });
        series.forEach((k, h) -> {
            out.println();
            out.println(k.replace('\t', ' ') + " (bytes):");
            TraceLatency.printHistogram(h, 1, out);
        });
    }
}
