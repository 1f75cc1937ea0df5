package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The io-core behaviour suite over the io_uring transport (process fds, copied sends). */
class UringEchoTest extends EchoBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
