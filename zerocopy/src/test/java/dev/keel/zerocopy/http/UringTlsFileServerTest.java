package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.BeforeAll;

/** The HTTPS file server suite over the io_uring transport: records through the ring. */
class UringTlsFileServerTest extends TlsFileServerTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        IoUringAvailable.assume();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
