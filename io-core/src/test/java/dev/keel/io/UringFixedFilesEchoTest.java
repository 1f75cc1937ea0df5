package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/**
 * The io-core behaviour suite over io_uring with the options that change the data path:
 * sockets accepted into fixed file slots (direct descriptors, closed through the ring), and
 * sends of 1 KiB or more made zero-copy (SEND_ZC, the buffer the kernel's until its
 * notification) from the pool registered as a fixed buffer.
 */
class UringFixedFilesEchoTest extends EchoBehaviourTest {
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
        return LoopOptions.builder().directDescriptors(true).registeredBuffers(true).zeroCopySendThreshold(1024);
    }
}
