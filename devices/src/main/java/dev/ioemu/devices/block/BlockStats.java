package dev.ioemu.devices.block;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per-image counters (QEMU's query-blockstats vocabulary): operations, bytes, errors and total
 * latency per kind, plus a coarse latency histogram for the trace tools. Updated lock-free.
 */
public final class BlockStats {
    /** The kinds of request counted separately. */
    public enum Kind { READ, WRITE, FLUSH, DISCARD, WRITE_ZEROES }

    /** Upper bounds of the latency buckets in microseconds; the last bucket is open-ended. */
    public static final long[] LATENCY_BUCKETS_US = {10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000,
            10_000, 50_000, 100_000, 1_000_000};

    private final LongAdder[] ops = adders(Kind.values().length);
    private final LongAdder[] bytes = adders(Kind.values().length);
    private final LongAdder[] failed = adders(Kind.values().length);
    private final LongAdder[] totalNanos = adders(Kind.values().length);
    private final LongAdder[][] histogram = new LongAdder[Kind.values().length][];

    public BlockStats() {
        for (int k = 0; k < histogram.length; k++) {
            histogram[k] = adders(LATENCY_BUCKETS_US.length + 1);
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** Records one completed request: {@code result} ≥ 0 counts as success with that many bytes. */
    public void record(Kind kind, long length, int result, long nanos) {
        int k = kind.ordinal();
        if (result < 0) {
            failed[k].increment();
            return;
        }
        ops[k].increment();
        bytes[k].add(length);
        totalNanos[k].add(nanos);
        long us = nanos / 1000;
        int b = 0;
        while (b < LATENCY_BUCKETS_US.length && us > LATENCY_BUCKETS_US[b]) {
            b++;
        }
        histogram[k][b].increment();
    }

    public long operations(Kind kind) { return ops[kind.ordinal()].sum(); }

    public long bytes(Kind kind) { return bytes[kind.ordinal()].sum(); }

    public long failed(Kind kind) { return failed[kind.ordinal()].sum(); }

    public long totalTimeNanos(Kind kind) { return totalNanos[kind.ordinal()].sum(); }

    /** Counts per latency bucket; index i counts requests ≤ LATENCY_BUCKETS_US[i] (last: above all). */
    public long[] latencyHistogram(Kind kind) {
        LongAdder[] h = histogram[kind.ordinal()];
        long[] out = new long[h.length];
        for (int i = 0; i < h.length; i++) {
            out[i] = h[i].sum();
        }
        return out;
    }
}
