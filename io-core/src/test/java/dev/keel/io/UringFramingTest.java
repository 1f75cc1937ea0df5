package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The inbound-framing suite over the io_uring transport. */
class UringFramingTest extends FramingBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
