package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The outbound-connection suite over io_uring with direct descriptors (sockets in the fixed file table). */
class UringDirectClientTest extends ClientBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }

    @Override
    LoopOptions.Builder options() {
        return super.options().directDescriptors(true);
    }
}
