package dev.keel.io;

import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** File regions over the epoll transport: sendfile(2), one system call per chunk the socket took. */
class EpollFileRegionWriteTest extends FileRegionWriteBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }

    @Override
    void assertCarriedByTransport(EventLoop loop) throws Exception {
        assertTrue(onLoop(loop, () -> loop.stats().filePipes()) == 0, "epoll needs no pipe for sendfile");
    }
}
