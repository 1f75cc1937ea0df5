package dev.keel.zerocopy.http;

import dev.keel.io.Transport;
import org.junit.jupiter.api.BeforeAll;

/** The malformed-request suite over the io_uring transport. */
class UringMalformedRequestTest extends MalformedRequestTest {
    /** Hides the superclass's start, so that only the io_uring server is started. */
    @BeforeAll
    static void start() throws java.io.IOException {
        IoUringAvailable.assume();
        startOn(Transport.IO_URING);
    }
}
