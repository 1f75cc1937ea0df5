package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The outbound-connection suite over the io_uring transport (process fds). */
class UringClientTest extends ClientBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
