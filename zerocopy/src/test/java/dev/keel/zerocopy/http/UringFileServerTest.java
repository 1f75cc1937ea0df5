package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.BeforeAll;

/** The file server suite over the io_uring transport: heads through the ring, bodies by sendfile. */
class UringFileServerTest extends FileServerTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        IoUringAvailable.assume();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
