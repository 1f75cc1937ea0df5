package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NO_IOWAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bindings of io_uring's newer tools on the real kernel: each is taken only where the
 * kernel reports it, and the kernel accepts what it is then given (an io_uring_enter flag it
 * does not know is refused with EINVAL, which throws).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoUringNewerToolsTest {
    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @Test
    void shouldWaitWithNoIowaitExactlyWhenTheKernelReportsIt() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            assertFalse(ring.waitsWithoutIowait(), "not before it is asked for");
            boolean has = ring.hasFeature(IORING_FEAT_NO_IOWAIT);
            assertEquals(has, ring.waitWithoutIowait());
            assertEquals(has, ring.waitsWithoutIowait());
            // The kernel takes the flag: the timed wait runs out instead of failing with EINVAL.
            assertEquals(-Errno.ETIME, ring.submitAndWait(1, TimeUnit.MILLISECONDS.toNanos(5)));
            assertTrue(ring.isOpen());
        }
    }
}
