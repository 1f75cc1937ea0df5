package dev.keel.cli;

/**
 * Latencies in nanoseconds, counted the way HdrHistogram counts them: linear up to 2,048, then
 * 1,024 sub-buckets per power of two, so every value is kept to three significant digits
 * (within 1/1024 of itself) from 1 ns to {@link #MAX} (60 s), in one fixed array of about
 * 27,000 counters. Recording is two shifts and an increment: no allocation, no resizing. A
 * percentile is the highest value equivalent to the bucket it falls in (as HdrHistogram's
 * {@code getValueAtPercentile}); the maximum is exact.
 *
 * <p>keel's own rather than org.hdrhistogram's: that jar is no named module (no module
 * descriptor, no Automatic-Module-Name), and jlink, which builds keel's runtime image, links
 * named modules only. One recorder per loop thread; merged with {@link #add} after the loops
 * stopped.
 */
final class LatencyHistogram {
    /** The largest value recorded as itself; larger ones are recorded as this. */
    static final long MAX = 60_000_000_000L;
    private static final int SUB_BITS = 10;
    private static final int SUB = 1 << SUB_BITS;
    private static final int LINEAR = 2 * SUB;

    private final long[] counts = new long[index(MAX) + 1];
    private long total;
    private long max;

    /** Counts one value (clamped to 1..MAX). */
    void record(long nanos) {
        long v = Math.max(1, Math.min(MAX, nanos));
        counts[index(v)]++;
        total++;
        if (v > max) {
            max = v;
        }
    }

    static int index(long v) {
        if (v < LINEAR) {
            return (int) v;
        }
        int shift = 63 - Long.numberOfLeadingZeros(v) - SUB_BITS;
        int sub = (int) (v >>> shift);
        return LINEAR + (shift - 1) * SUB + (sub - SUB);
    }

    /** The highest value counted in bucket {@code index}. */
    static long highestIn(int index) {
        if (index < LINEAR) {
            return index;
        }
        int k = index - LINEAR;
        int shift = k / SUB + 1;
        long low = (long) (k % SUB + SUB) << shift;
        return low + (1L << shift) - 1;
    }

    void add(LatencyHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        max = Math.max(max, other.max);
    }

    long count() {
        return total;
    }

    long max() {
        return max;
    }

    /** The value below which {@code percent} of the values fall (0 when none was recorded). */
    long percentile(double percent) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(percent / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(highestIn(i), max);
            }
        }
        return max;
    }
}
