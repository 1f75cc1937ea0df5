package dev.keel.zerocopy;

import dev.keel.io.Transport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/** The malformed-request suite over the io_uring transport. */
class UringMalformedRequestTest extends MalformedRequestTest {
    /** Hides the superclass's start, so that only the io_uring server is started. */
    @BeforeAll
    static void start() throws java.io.IOException {
        String why = Transport.ioUringUnavailableReason();
        Assumptions.assumeTrue(why == null, () -> "io_uring transport not testable here: " + why);
        startOn(Transport.IO_URING);
    }
}
