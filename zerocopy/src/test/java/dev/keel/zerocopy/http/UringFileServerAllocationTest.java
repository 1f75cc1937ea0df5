package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.BeforeAll;

/** The file server's zero-allocation check over the io_uring transport. */
class UringFileServerAllocationTest extends FileServerAllocationTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        IoUringAvailable.assume();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
