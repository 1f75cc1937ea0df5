package dev.keel.io;

import dev.keel.io.stats.HistogramSnapshot;
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
        counts[bucketOf(value)]++;
        sum += value & ~(value >> 63);
    }

    /**
     * The bucket {@code value} falls in, computed with shifts and masks only. Not even
     * Math.min/max: C2 may turn those into branches laid out by the profile, and the first value
     * in a bucket the compiled loop had never seen (a pass under a microsecond, say) would then
     * hit an uncommon trap and deoptimise the pass, which re-allocates the objects escape
     * analysis had removed and breaks the loop's no-allocation promise.
     */
    int bucketOf(long value) {
        long below = (value & ~(value >> 63)) - 1; // a negative value counts as 0
        below &= ~(below >> 63); // and 0 as 1
        int i = 64 - Long.numberOfLeadingZeros(below >>> minExponent);
        int over = i - (counts.length - 1);
        return counts.length - 1 + (over & (over >> 31)); // min(i, last bucket)
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
