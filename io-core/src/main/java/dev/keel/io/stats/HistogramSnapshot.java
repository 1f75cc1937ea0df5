package dev.keel.io.stats;

import java.util.Arrays;

/**
 * A copy of a loop histogram: {@code counts[i]} values fell at or below {@code bounds[i]} and
 * above {@code bounds[i-1]}; the last count (one more than there are bounds) is the overflow,
 * the {@code +Inf} bucket of Prometheus. Counts are per bucket, not cumulative.
 *
 * @param bounds upper bounds, increasing, in the histogram's unit (nanoseconds, syscalls)
 * @param counts per-bucket counts; {@code counts.length == bounds.length + 1}
 * @param sum    the sum of every value counted
 */
public record HistogramSnapshot(long[] bounds, long[] counts, long sum) {
    /** Copies both arrays (a snapshot never changes); throws if the counts do not fit the bounds. */
    public HistogramSnapshot {
        if (counts.length != bounds.length + 1) {
            throw new IllegalArgumentException(counts.length + " counts for " + bounds.length + " bounds");
        }
        bounds = bounds.clone();
        counts = counts.clone();
    }

    /** The upper bounds, as a new array (the snapshot keeps its own). */
    @Override
    public long[] bounds() {
        return bounds.clone();
    }

    /** The per-bucket counts, overflow last, as a new array (the snapshot keeps its own). */
    @Override
    public long[] counts() {
        return counts.clone();
    }

    /** Values counted: the sum of every bucket. */
    public long count() {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        return n;
    }

    /** Values at or below {@code bounds[i]}: the cumulative count of Prometheus' {@code le} bucket. */
    public long cumulative(int i) {
        long n = 0;
        for (int j = 0; j <= i; j++) {
            n += counts[j];
        }
        return n;
    }

    /** The bucket-wise sum of two histograms of the same shape (loops of one group). */
    public HistogramSnapshot plus(HistogramSnapshot other) {
        if (!Arrays.equals(bounds, other.bounds)) {
            throw new IllegalArgumentException("histograms of different shapes");
        }
        long[] c = counts.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] += other.counts[i];
        }
        return new HistogramSnapshot(bounds, c, sum + other.sum);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HistogramSnapshot h && Arrays.equals(bounds, h.bounds) && Arrays.equals(counts, h.counts)
                && sum == h.sum;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(bounds) + Arrays.hashCode(counts)) + Long.hashCode(sum);
    }

    @Override
    public String toString() {
        return "HistogramSnapshot[bounds=" + Arrays.toString(bounds) + ", counts=" + Arrays.toString(counts)
                + ", sum=" + sum + "]";
    }
}
