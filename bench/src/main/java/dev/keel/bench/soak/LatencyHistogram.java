package dev.keel.bench.soak;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latencies in log-linear buckets (32 per power of two, so within about 3 %), from 1 µs to
 * about 70 s; shared by the load threads without a lock. Enough for a p99 over millions of
 * requests without keeping them.
 */
final class LatencyHistogram {
    private static final int SUB = 32;
    private static final int POWERS = 27;
    private final AtomicLongArray counts = new AtomicLongArray(POWERS * SUB + 1);

    void record(long nanos) {
        counts.incrementAndGet(bucket(Math.max(1, nanos / 1000)));
    }

    private static int bucket(long micros) {
        int power = 63 - Long.numberOfLeadingZeros(micros);
        if (power >= POWERS) {
            return POWERS * SUB;
        }
        int sub = power < 5 ? (int) (micros << (5 - power)) - SUB : (int) (micros >>> (power - 5)) - SUB;
        return power * SUB + sub;
    }

    /** Upper bound, in microseconds, of bucket {@code b}. */
    private static long upper(int b) {
        if (b >= POWERS * SUB) {
            return Long.MAX_VALUE;
        }
        int power = b / SUB;
        long sub = b % SUB + SUB + 1;
        return power < 5 ? Math.max(1, sub >>> (5 - power)) : sub << (power - 5);
    }

    long count() {
        long n = 0;
        for (int i = 0; i < counts.length(); i++) {
            n += counts.get(i);
        }
        return n;
    }

    /** The {@code q} quantile (0..1) in microseconds, or 0 without samples. */
    long quantileMicros(double q) {
        long total = count();
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length(); i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return upper(i);
            }
        }
        return upper(counts.length() - 1);
    }
}
