package dev.ioemu.tools.trace;

/**
 * A fixed-size log-linear histogram of non-negative values (latencies in ns, sizes in bytes): 64
 * sub-buckets per power of two, so a percentile is within 1.6 % of the true value while memory
 * stays the same for a thousand samples or a billion. Count, sum, min and max are exact.
 */
final class Histogram {
    private static final int SUB = 64;
    private final long[] buckets = new long[64 * SUB];
    private long count;
    private long sum;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;

    void add(long value) {
        long v = Math.max(0, value);
        buckets[index(v)]++;
        count++;
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
    }

    private static int index(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int exp = 63 - Long.numberOfLeadingZeros(v);          // v in [2^exp, 2^(exp+1))
        int sub = (int) ((v >>> (exp - 6)) & (SUB - 1));      // the next 6 bits
        return (exp - 5) * SUB + sub;
    }

    /** The smallest value of bucket {@code i}. */
    private static long lowerBound(int i) {
        if (i < SUB) {
            return i;
        }
        int exp = i / SUB + 5;
        long sub = i % SUB;
        return (1L << exp) | (sub << (exp - 6));
    }

    long count() {
        return count;
    }

    long sum() {
        return sum;
    }

    long min() {
        return count == 0 ? 0 : min;
    }

    long max() {
        return count == 0 ? 0 : max;
    }

    /** The value at quantile {@code q} (0..1): the bucket's lower bound, clamped to [min, max]. */
    long percentile(double q) {
        if (count == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(q * count));
        long seen = 0;
        for (int i = 0; i < buckets.length; i++) {
            seen += buckets[i];
            if (seen >= rank) {
                return Math.max(min, Math.min(max, lowerBound(i)));
            }
        }
        return max;
    }

    /** Counts per power-of-two range: element k counts values in [2^k, 2^(k+1)) (k = 0 holds 0 and 1). */
    long[] powersOfTwo() {
        long[] out = new long[64];
        for (int i = 0; i < buckets.length; i++) {
            if (buckets[i] != 0) {
                long lb = lowerBound(i);
                out[lb <= 1 ? 0 : 63 - Long.numberOfLeadingZeros(lb)] += buckets[i];
            }
        }
        return out;
    }
}
