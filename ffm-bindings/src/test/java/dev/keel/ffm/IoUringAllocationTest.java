package dev.keel.ffm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The per-operation path a reactor runs (reserve an SQE, encode it, submit and wait, reap the
 * completion) allocates nothing on the Java heap in steady state, measured with this thread's
 * allocated-bytes counter.
 *
 * <p>Until C2 has compiled the downcall path, the interpreter and C1 allocate a few dozen bytes
 * per call; how long that takes depends on what the JIT is busy with (the whole suite shares one
 * JVM). So the test measures consecutive windows and passes on the first window with zero bytes;
 * code that allocates in steady state allocates in every window and fails.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class IoUringAllocationTest {
    private static final int WINDOW = 10_000;
    private static final int MAX_WINDOWS = 100;

    /** Reaped user_data sum, kept in a field so the handler captures nothing. */
    private static long sum;
    private static final IoUringRing.CompletionHandler SUM = (ud, res, flags) -> sum += ud + res;

    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @Test
    void shouldNotAllocatePerNopRoundTripOnceWarm() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Long> perWindow = new ArrayList<>();
        try (IoUringRing ring = IoUringRing.open(8, 0)) {
            for (int w = 0; w < MAX_WINDOWS; w++) {
                sum = 0;
                long before = threads.getCurrentThreadAllocatedBytes();
                assertTrue(before >= 0, "this JVM measures per-thread allocation");
                roundTrips(ring, WINDOW);
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                assertEquals((long) WINDOW * (WINDOW - 1) / 2, sum, "every NOP came back once");
                if (allocated == 0) {
                    return;
                }
                perWindow.add(allocated);
            }
        }
        fail("every window of " + WINDOW + " round trips allocated; bytes per window: " + perWindow);
    }

    private static void roundTrips(IoUringRing ring, int n) {
        IoUringPrep prep = ring.prep();
        for (int i = 0; i < n; i++) {
            prep.nop(ring.nextSqe(), i);
            if (ring.submitAndWait(1) != 1 || ring.forEachCompletion(SUM) != 1) {
                throw new AssertionError("round trip " + i + " failed");
            }
        }
    }
}
