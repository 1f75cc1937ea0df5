package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NO_IOWAIT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_R_DISABLED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    /** Linux 6.13 or later, where IORING_REGISTER_MEM_REGION takes a wait region. */
    static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version").split("[.-]");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    @Test
    void shouldTimeTheWaitFromTheRegisteredWaitRegion() {
        try (IoUringRing ring = IoUringRing.open(4, IORING_SETUP_R_DISABLED)) {
            boolean registered = IoUringRegister.registerWaitRegion(ring);
            assertEquals(kernelAtLeast(6, 13), registered, "wait regions exist from Linux 6.13 on");
            IoUringRegister.enableRings(ring);
            assertEquals(registered, ring.waitsThroughRegion());
            // The kernel reads the timeout from the region: the wait runs out after it (a kernel
            // that found no region there would answer EFAULT, one that read no timeout would
            // wait until this test times out).
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                assertEquals(-Errno.ETIME, ring.submitAndWait(1, TimeUnit.MILLISECONDS.toNanos(20)));
                assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(15), "the wait lasted the timeout");
            }
        }
    }

    @Test
    void shouldRefuseAWaitRegionOnceTheRingIsEnabled() {
        try (IoUringRing ring = IoUringRing.open(4, IORING_SETUP_R_DISABLED)) {
            IoUringRegister.enableRings(ring);
            assertThrows(IllegalStateException.class, () -> IoUringRegister.registerWaitRegion(ring));
            assertFalse(ring.waitsThroughRegion());
        }
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            assertThrows(IllegalStateException.class, () -> IoUringRegister.registerWaitRegion(ring));
        }
    }
}
