package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.BeforeAll;

/** The 1,000-download load and reset suite over the io_uring transport. */
class UringDownloadLoadTest extends DownloadLoadTest {
    /** Hides the superclass's start, so that only the io_uring server is started. */
    @BeforeAll
    static void start() throws Exception {
        IoUringAvailable.assume();
        startOn(Transport.IO_URING);
    }
}
