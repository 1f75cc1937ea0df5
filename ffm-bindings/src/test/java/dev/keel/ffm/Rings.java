package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Assumptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared plumbing of the io_uring tests. */
final class Rings {
    static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private Rings() {
    }

    /** One completion as the ring delivered it. */
    record Cqe(long userData, int res, int flags) {
    }

    /**
     * Skips the calling test only when the kernel really has no io_uring for us (ENOSYS) or
     * forbids it (EPERM); any other set-up failure is a failure.
     */
    static void requireIoUring() {
        IoUring.Support s = IoUring.support();
        if (!s.available()) {
            Assumptions.assumeTrue(s.errno() != Errno.ENOSYS && s.errno() != Errno.EPERM, s.reason());
            fail(s.reason());
        }
    }

    /** Submits, then waits (bounded) until {@code n} completions have been reaped, and returns them. */
    static List<Cqe> await(IoUringRing ring, int n) {
        List<Cqe> got = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT_NANOS;
        int r = ring.submit();
        assertTrue(r >= 0, "submit: " + r);
        while (got.size() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail("only " + got.size() + " of " + n + " completions within 5 s: " + got);
            }
            if (ring.cqReady() == 0) {
                int w = ring.submitAndWait(1, left);
                assertTrue(w >= 0 || w == -Errno.ETIME || w == -Errno.EINTR, "submitAndWait: " + w);
            }
            ring.forEachCompletion((ud, res, flags) -> got.add(new Cqe(ud, res, flags)));
        }
        assertEquals(n, got.size(), "more completions than expected: " + got);
        return got;
    }

    /** Reserves an SQE, failing the test when the SQ is full. */
    static int sqe(IoUringRing ring) {
        int s = ring.nextSqe();
        assertTrue(s >= 0, "SQ full");
        return s;
    }
}
