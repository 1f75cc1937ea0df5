package dev.keel.zerocopy.proxy;

import dev.keel.io.Transport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/** The proxy's back-pressure and allocation checks over the io_uring transport. */
class UringProxyFlowTest extends ProxyFlowTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        String why = Transport.ioUringUnavailableReason();
        Assumptions.assumeTrue(why == null, () -> "io_uring transport not testable here: " + why);
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
