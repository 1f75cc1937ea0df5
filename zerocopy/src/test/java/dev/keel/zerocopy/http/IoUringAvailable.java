package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.Assumptions;

/** Shared by the io_uring variants of the zerocopy suites. */
final class IoUringAvailable {
    private IoUringAvailable() {
    }

    /** Skips the calling tests, saying why, when this kernel or process cannot run io_uring. */
    static void assume() {
        String why = Transport.ioUringUnavailableReason();
        Assumptions.assumeTrue(why == null, () -> "io_uring transport not testable here: " + why);
    }
}
