package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The application-timer suite over the io_uring transport. */
class UringTimersTest extends TimersBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
