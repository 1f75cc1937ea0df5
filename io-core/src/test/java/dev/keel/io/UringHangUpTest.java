package dev.keel.io;

/** Hang-ups of blocked connections over the io_uring transport. */
class UringHangUpTest extends HangUpBehaviourTest {
    @org.junit.jupiter.api.BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
