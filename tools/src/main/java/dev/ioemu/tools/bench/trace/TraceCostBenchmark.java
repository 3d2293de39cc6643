package dev.ioemu.tools.bench.trace;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * What tracing costs on the DMA path (issue 12, "zero cost when off"): one 64 KiB WRITE DMA EXT +
 * READ DMA EXT through the IDE model ({@code TraceCostWorkload}) in three variants of the same
 * classes —
 * {@code removed}: every trace call site taken out (the baseline);
 * {@code off}: the shipped code, every event off (one volatile load and a branch per site);
 * {@code on}: every event on, lines formatted and discarded.
 * A second benchmark times the register half of the path alone ({@code taskFileRegisters}).
 * Run by {@code tools/bench/trace-cost.sh}, which prints the ratios.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TraceCostBenchmark {
    @Param({"removed", "off", "on"})
    public String variant;

    /** A raw image of at least 64 MiB (the script makes one). */
    @Param("")
    public String image;

    private Runnable workload;
    private java.util.function.IntSupplier registers;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        if (image.isEmpty()) {
            throw new IllegalArgumentException("image: empty (expected: -p image=PATH of a raw image of 64 MiB or more)");
        }
        ClassLoader loader = new TraceStrippingClassLoader(getClass().getClassLoader(), variant.equals("removed"));
        Class<?> c = Class.forName("dev.ioemu.tools.bench.TraceCostWorkload", true, loader);
        workload = (Runnable) c.getConstructor(String.class, boolean.class).newInstance(image, variant.equals("on"));
        registers = (java.util.function.IntSupplier) workload;
    }

    @Benchmark
    public void dmaWriteThenRead() {
        workload.run();
    }

    /** The register half alone (task file, BM status, alternate status): no I/O thread, so little scheduler noise. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int taskFileRegisters() {
        return registers.getAsInt();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        ((AutoCloseable) workload).close();
    }
}
