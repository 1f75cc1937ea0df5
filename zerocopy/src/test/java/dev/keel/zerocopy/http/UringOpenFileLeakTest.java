package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.BeforeAll;

/** The descriptor-leak suite over the io_uring transport. */
class UringOpenFileLeakTest extends OpenFileLeakTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        IoUringAvailable.assume();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
