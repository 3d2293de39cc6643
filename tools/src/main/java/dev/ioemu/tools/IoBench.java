package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.host.Errno;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code ioemu-io bench}: QD1 synchronous I/O through the block layer, as fio's psync engine does
 * it (one pread/pwrite per request, no queue), so the two can be compared on the same file
 * (tools/bench/block-vs-fio.sh). The caller's buffer is 4096-aligned direct memory, so direct
 * modes take the zero-copy path, like fio's aligned buffers.
 */
final class IoBench {
    /** The access patterns of fio's {@code --rw}. */
    enum Pattern {
        READ, WRITE, RANDREAD, RANDWRITE;

        static Pattern parse(String value) {
            return switch (value) {
                case "read" -> READ;
                case "write" -> WRITE;
                case "randread" -> RANDREAD;
                case "randwrite" -> RANDWRITE;
                default -> throw new IllegalArgumentException("--rw: '" + value
                        + "' (expected: read, write, randread, randwrite)");
            };
        }

        boolean writes() {
            return this == WRITE || this == RANDWRITE;
        }

        boolean random() {
            return this == RANDREAD || this == RANDWRITE;
        }

        String optionName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Validated bench settings; {@code runtimeSeconds} 0 means one pass over {@code size};
     * {@code rampSeconds} of I/O run first and are not measured (fio's ramp_time; lets the JIT
     * compile the path before measuring).
     */
    record Settings(Pattern pattern, int blockSize, long size, int flushEvery, double runtimeSeconds,
                    double rampSeconds, long seed) {
        Settings {
            if (blockSize <= 0 || blockSize > (64 << 20)) {
                throw new IllegalArgumentException("--bs: " + blockSize + " (expected: 1 byte to 64M)");
            }
            if (size < blockSize) {
                throw new IllegalArgumentException("--size: " + size + " (expected: at least --bs " + blockSize + ")");
            }
            if (flushEvery < 0) {
                throw new IllegalArgumentException("--flush-every: " + flushEvery + " (expected: ≥ 0)");
            }
            if (rampSeconds < 0) {
                throw new IllegalArgumentException("--ramp-time: " + rampSeconds + " (expected: ≥ 0 seconds)");
            }
            if (runtimeSeconds < 0) {
                throw new IllegalArgumentException("--runtime: " + runtimeSeconds + " (expected: ≥ 0 seconds)");
            }
        }
    }

    /** What a run measured. */
    record Result(long ops, long bytes, long flushes, double seconds, double p50Micros, double p99Micros,
                  double meanMicros) {
        double megabytesPerSecond() {
            return bytes / seconds / 1e6;
        }

        double iops() {
            return ops / seconds;
        }
    }

    /** Latency histogram: 100 ns buckets up to 100 ms, one overflow bucket; allocated once. */
    static final class LatencyHistogram {
        static final long BUCKET_NANOS = 100;
        private final long[] counts = new long[1_000_001];
        private long total;
        private long sumNanos;

        void record(long nanos) {
            int b = (int) Math.min(counts.length - 1, nanos / BUCKET_NANOS);
            counts[b]++;
            total++;
            sumNanos += nanos;
        }

        /** Upper edge of the bucket holding the {@code q} quantile, in microseconds. */
        double quantileMicros(double q) {
            long rank = (long) Math.ceil(q * total);
            long seen = 0;
            for (int b = 0; b < counts.length; b++) {
                seen += counts[b];
                if (seen >= rank && seen > 0) {
                    return (b + 1) * BUCKET_NANOS / 1000.0;
                }
            }
            return 0;
        }

        double meanMicros() {
            return total == 0 ? 0 : sumNanos / 1000.0 / total;
        }
    }

    private IoBench() {
    }

    /**
     * Runs the bench; a failed request stops it.
     *
     * @throws BenchFailure with the offset and errno of the failed request
     */
    static Result run(BlockDevice dev, Settings s) throws BenchFailure {
        int rounded = (s.blockSize() + 4095) & ~4095;
        ByteBuffer buf = ByteBuffer.allocateDirect(rounded + 4096).alignedSlice(4096).limit(s.blockSize()).slice();
        SplittableRandom rnd = new SplittableRandom(s.seed());
        for (int i = 0; i < s.blockSize(); i++) {
            buf.put(i, (byte) rnd.nextInt(256));
        }
        long blocks = s.size() / s.blockSize();
        if (s.rampSeconds() > 0) {
            runPhase(dev, s, buf, rnd, blocks, (long) (s.rampSeconds() * 1e9), Long.MAX_VALUE, null);
        }
        long deadline = s.runtimeSeconds() > 0 ? (long) (s.runtimeSeconds() * 1e9) : Long.MAX_VALUE;
        long opsLimit = s.runtimeSeconds() > 0 ? Long.MAX_VALUE : blocks;
        LatencyHistogram lat = new LatencyHistogram();
        return runPhase(dev, s, buf, rnd, blocks, deadline, opsLimit, lat);
    }

    /** Issues requests until the time or count limit; records latencies when {@code lat} is given. */
    private static Result runPhase(BlockDevice dev, Settings s, ByteBuffer buf, SplittableRandom rnd, long blocks,
                                   long deadline, long opsLimit, LatencyHistogram lat) throws BenchFailure {
        long ops = 0;
        long flushes = 0;
        long start = System.nanoTime();
        long now = start;
        while (ops < opsLimit && now - start < deadline) {
            long block = s.pattern().random() ? rnd.nextLong(blocks) : ops % blocks;
            long offset = block * s.blockSize();
            buf.clear();
            int r = s.pattern().writes() ? dev.write(offset, buf) : dev.read(offset, buf);
            long done = System.nanoTime();
            if (r < 0) {
                throw new BenchFailure((s.pattern().writes() ? "write" : "read") + " at offset " + offset + " failed: "
                        + Errno.name(r));
            }
            if (lat != null) {
                lat.record(done - now);
            }
            ops++;
            if (s.flushEvery() > 0 && s.pattern().writes() && ops % s.flushEvery() == 0) {
                int f = dev.flush();
                if (f < 0) {
                    throw new BenchFailure("flush failed: " + Errno.name(f));
                }
                flushes++;
                done = System.nanoTime();
            }
            now = done;
        }
        if (lat == null) {
            return null;
        }
        double seconds = (now - start) / 1e9;
        return new Result(ops, ops * s.blockSize(), flushes, seconds, lat.quantileMicros(0.5), lat.quantileMicros(0.99),
                lat.meanMicros());
    }

    static void print(PrintStream out, Settings s, String cache, Result r, boolean json) {
        if (json) {
            out.printf(Locale.ROOT, "{\"rw\":\"%s\",\"bs\":%d,\"size\":%d,\"cache\":\"%s\",\"flush_every\":%d,"
                            + "\"ops\":%d,\"flushes\":%d,\"seconds\":%.3f,\"mbps\":%.2f,\"iops\":%.1f,"
                            + "\"lat_us_p50\":%.1f,\"lat_us_p99\":%.1f,\"lat_us_mean\":%.2f}%n",
                    s.pattern().optionName(), s.blockSize(), s.size(), cache, s.flushEvery(), r.ops(), r.flushes(),
                    r.seconds(), r.megabytesPerSecond(), r.iops(), r.p50Micros(), r.p99Micros(), r.meanMicros());
        } else {
            out.printf(Locale.ROOT, "%s bs=%s cache=%s%s: %d ops in %.2f s%n", s.pattern().optionName(),
                    SizeArgument.human(s.blockSize()), cache,
                    s.flushEvery() > 0 ? " flush-every=" + s.flushEvery() : "", r.ops(), r.seconds());
            out.printf(Locale.ROOT, "  %.1f MB/s, %.0f IOPS, latency p50 %.1f us, p99 %.1f us, mean %.2f us%n",
                    r.megabytesPerSecond(), r.iops(), r.p50Micros(), r.p99Micros(), r.meanMicros());
        }
    }

    /** A request failed during the bench. */
    static final class BenchFailure extends Exception {
        BenchFailure(String message) {
            super(message);
        }
    }
}
