package dev.keel.cli;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** keel load's histogram against exact percentiles of the same values: three significant digits. */
class LatencyHistogramTest {
    @Test
    void shouldGivePercentilesWithinATenthOfAPercentOfTheExactOnes() {
        SplittableRandom random = new SplittableRandom(3);
        long[] values = new long[200_000];
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i < values.length; i++) {
            // log-uniform from 1 ns to about 10 s: every bucket range is exercised
            values[i] = Math.max(1, (long) Math.exp(random.nextDouble() * Math.log(1e10)));
            h.record(values[i]);
        }
        Arrays.sort(values);
        assertEquals(values.length, h.count());
        assertEquals(values[values.length - 1], h.max(), "the maximum is exact");
        for (double p : new double[] {1, 50, 90, 99, 99.9, 99.99, 100}) {
            long exact = values[(int) Math.max(0, Math.ceil(p / 100 * values.length) - 1)];
            long got = h.percentile(p);
            assertTrue(got >= exact && got - exact <= Math.max(0, exact / 1024), "p" + p + ": " + got + " vs " + exact);
        }
    }

    @Test
    void shouldMapEveryBucketBackToTheValuesItHolds() {
        for (long v : new long[] {1, 2047, 2048, 2049, 4095, 4096, 1_000_000, 123_456_789, LatencyHistogram.MAX}) {
            int i = LatencyHistogram.index(v);
            assertTrue(LatencyHistogram.highestIn(i) >= v, "bucket of " + v);
            assertTrue(i == 0 || LatencyHistogram.highestIn(i - 1) < v, "the bucket before " + v + " ends below it");
        }
        LatencyHistogram a = new LatencyHistogram();
        LatencyHistogram b = new LatencyHistogram();
        a.record(10);
        b.record(LatencyHistogram.MAX * 2); // clamped
        a.add(b);
        assertEquals(2, a.count());
        assertEquals(LatencyHistogram.MAX, a.max());
        assertEquals(10, a.percentile(50));
    }
}
