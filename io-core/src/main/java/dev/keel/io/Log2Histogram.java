package dev.keel.io;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A histogram with power-of-two bucket bounds in one preallocated {@code long[]}: bucket
 * {@code i} counts values in {@code (2^(minExponent+i-1), 2^(minExponent+i)]} (bucket 0 counts
 * everything up to {@code 2^minExponent}), the last bucket everything above the largest bound.
 * Recording finds the bucket with one {@link Long#numberOfLeadingZeros} and increments a plain
 * array element: no search, no allocation, cheap enough for every loop pass.
 *
 * <p>Written only by the owning loop thread; {@link #snapshot} may run on any thread and reads
 * each element with an opaque read, so a reader sees counts at most a little behind the loop
 * (never torn, never hoisted out of a reader's polling loop), but not one consistent instant.
 */
final class Log2Histogram {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle SUM;

    static {
        try {
            SUM = MethodHandles.lookup().findVarHandle(Log2Histogram.class, "sum", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int minExponent;
    /** Per-bucket counts, not cumulative; the last element is the overflow bucket. */
    private final long[] counts;
    private long sum;

    /**
     * @param minExponent    the first bound is {@code 2^minExponent}
     * @param finiteBuckets  buckets with a bound; one more counts what lies above them all
     */
    Log2Histogram(int minExponent, int finiteBuckets) {
        if (minExponent < 0 || finiteBuckets <= 0 || minExponent + finiteBuckets > 62) {
            throw new IllegalArgumentException("bad histogram shape " + minExponent + "/" + finiteBuckets);
        }
        this.minExponent = minExponent;
        this.counts = new long[finiteBuckets + 1];
    }

    /** Counts one value (negative values count as 0). Loop thread only. */
    void record(long value) {
        int i = value <= (1L << minExponent) ? 0 : 64 - Long.numberOfLeadingZeros(value - 1) - minExponent;
        counts[Math.min(i, counts.length - 1)]++;
        sum += Math.max(value, 0);
    }

    /** The bucket {@code value} falls in; for tests. */
    int bucketOf(long value) {
        int i = value <= (1L << minExponent) ? 0 : 64 - Long.numberOfLeadingZeros(value - 1) - minExponent;
        return Math.min(i, counts.length - 1);
    }

    /** A copy of the counts and bounds; any thread. */
    HistogramSnapshot snapshot() {
        long[] bounds = new long[counts.length - 1];
        long[] copy = new long[counts.length];
        for (int i = 0; i < counts.length; i++) {
            copy[i] = (long) LONGS.getOpaque(counts, i);
            if (i < bounds.length) {
                bounds[i] = 1L << (minExponent + i);
            }
        }
        return new HistogramSnapshot(bounds, copy, (long) SUM.getOpaque(this));
    }
}
