package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The relay suite over the io_uring transport (process fds). */
class UringRelayTest extends RelayBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
