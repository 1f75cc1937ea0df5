package dev.keel.io;

import org.junit.jupiter.api.Assumptions;

/** Shared plumbing of the io_uring tests. */
final class UringTests {
    private UringTests() {
    }

    /**
     * Skips the calling tests, saying why, when this kernel or process cannot run the io_uring
     * transport (no io_uring, forbidden, or older than the operations it uses).
     */
    static void assumeIoUring() {
        IoUringSupport s = IoUringSupport.probe();
        Assumptions.assumeTrue(s.usable(), () -> "io_uring transport not testable here: " + s.reason());
    }
}
