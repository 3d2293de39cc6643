package dev.ioemu.tools.bench.trace;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;

/**
 * The "off" and "removed" variants of the trace-cost workload in one JVM, timed in short
 * alternating slices (removed, off, off, removed, …), so a change in the machine's load hits both
 * sides of every pair. JMH's separate forks (TraceCostBenchmark) cannot tell a 1 % difference on a
 * shared machine whose load moves by more than that between forks; the median of per-pair ratios
 * can. Each variant runs the same classes in its own {@link TraceStrippingClassLoader}, so each
 * has its own JIT profile, and its own image (the two open the same way and would otherwise
 * contend for the image's lock). The register benchmark runs on this thread alone and is timed in
 * this thread's CPU time, so being descheduled does not count; the DMA benchmark waits for the
 * machine's I/O thread and is timed in wall time.
 *
 * <p>Usage: {@code TraceCostPaired IMAGE-REMOVED IMAGE-OFF [PAIRS [SLICE-MS [WARMUP-S]]]}; prints one line per
 * benchmark with the median and quartiles of off/removed.
 */
public final class TraceCostPaired {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private TraceCostPaired() {
    }

    /** One measured side: a workload step and how many steps fit in a slice. */
    private interface Step {
        void run();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: TraceCostPaired IMAGE-REMOVED IMAGE-OFF [PAIRS [SLICE-MS [WARMUP-S]]]");
            System.exit(2);
        }
        int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        long sliceNanos = (args.length > 3 ? Long.parseLong(args[3]) : 50) * 1_000_000L;
        long warmupNanos = (args.length > 4 ? Long.parseLong(args[4]) : 10) * 1_000_000_000L;
        Object removed = load(args[0], true);
        Object off = load(args[1], false);
        try {
            report("dmaWriteThenRead", ((Runnable) removed)::run, ((Runnable) off)::run, false, pairs, sliceNanos, warmupNanos);
            IntSupplier r = (IntSupplier) removed;
            IntSupplier o = (IntSupplier) off;
            int[] sink = new int[1];
            report("taskFileRegisters", () -> sink[0] += r.getAsInt(), () -> sink[0] += o.getAsInt(),
                    true, pairs, sliceNanos, warmupNanos);
            if (sink[0] == 42) {
                System.out.print("");   // keeps the sink alive
            }
        } finally {
            ((AutoCloseable) removed).close();
            ((AutoCloseable) off).close();
        }
    }

    private static Object load(String image, boolean strip) throws Exception {
        ClassLoader loader = new TraceStrippingClassLoader(TraceCostPaired.class.getClassLoader(), strip);
        Class<?> c = Class.forName("dev.ioemu.tools.bench.TraceCostWorkload", true, loader);
        return c.getConstructor(String.class, boolean.class).newInstance(image, false);
    }

    private static void report(String name, Step removed, Step off, boolean cpuTime, int pairs, long sliceNanos, long warmupNanos) {
        long warmEnd = System.nanoTime() + warmupNanos;
        while (System.nanoTime() < warmEnd) {
            slice(removed, sliceNanos, cpuTime);
            slice(off, sliceNanos, cpuTime);
        }
        List<Double> ratios = new ArrayList<>(pairs);
        double sumRemoved = 0;
        double sumOff = 0;
        for (int i = 0; i < pairs; i++) {
            double a;
            double b;
            if ((i & 1) == 0) {
                a = slice(removed, sliceNanos, cpuTime);
                b = slice(off, sliceNanos, cpuTime);
            } else {
                b = slice(off, sliceNanos, cpuTime);
                a = slice(removed, sliceNanos, cpuTime);
            }
            ratios.add(b / a);
            sumRemoved += a;
            sumOff += b;
        }
        ratios.sort(null);
        System.out.printf(Locale.ROOT,
                "%s: off/removed median %.4f (%+.2f %%), quartiles %.4f..%.4f over %d pairs of %d ms; "
                        + "mean %s/op removed %.1f ns, off %.1f ns%n",
                name, quantile(ratios, 0.5), (quantile(ratios, 0.5) - 1) * 100, quantile(ratios, 0.25),
                quantile(ratios, 0.75), pairs, sliceNanos / 1_000_000, cpuTime ? "thread CPU time" : "wall time", sumRemoved / pairs, sumOff / pairs);
    }

    /** Runs {@code step} for about {@code nanos} of wall or this thread's CPU time; returns nanoseconds per step. */
    private static double slice(Step step, long nanos, boolean cpuTime) {
        long start = cpuTime ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
        long end = start + nanos;
        long n = 0;
        long now;
        do {
            for (int i = 0; i < 16; i++) {
                step.run();
            }
            n += 16;
            now = cpuTime ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
        } while (now < end);
        return (double) (now - start) / n;
    }

    private static double quantile(List<Double> sorted, double q) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(q * (sorted.size() - 1))));
    }
}
