package dev.keel.io;

import dev.keel.io.uring.UringPoller;
import org.junit.jupiter.api.BeforeAll;

import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * File regions over the io_uring transport: the body goes through the ring as splice requests
 * (file -> pipe -> socket), which the poller counts; the loop holds a pipe for it.
 */
class UringFileRegionWriteTest extends FileRegionWriteBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }

    @Override
    void assertCarriedByTransport(EventLoop loop) throws Exception {
        long splices = onLoop(loop, () -> ((UringPoller) loop.poller()).fileSplices());
        // 12 MiB through 1 MiB pipes: at least one splice in and one out per mebibyte.
        assertTrue(splices >= 24, "splice requests completed in the ring: " + splices);
        assertTrue(onLoop(loop, () -> loop.stats().filePipes()) >= 1, "the loop keeps the region's pipe for the next");
    }
}
