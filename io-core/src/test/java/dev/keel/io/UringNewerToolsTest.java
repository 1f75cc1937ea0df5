package dev.keel.io;

import dev.keel.ffm.IoUring;
import dev.keel.io.uring.UringPoller;
import dev.keel.io.uring.UringStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NO_IOWAIT;
import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.readFully;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * io_uring's newer tools on real sockets over 127.0.0.1, each shown at work by the loop's
 * {@link UringStats} (not only by nothing failing), and each one's fallback, taken with the
 * system property that makes the transport leave a tool unused as an older kernel would.
 */
class UringNewerToolsTest {
    /** UringRings.WITHOUT_PROPERTY. */
    private static final String WITHOUT = "keel.io_uring.without";

    private EventLoopGroup group;

    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
        System.clearProperty(WITHOUT);
    }

    private static boolean kernelHas(int feature) {
        return (IoUring.support().features() & feature) != 0;
    }

    private EventLoop start(ConnectionHandler handler, String without) {
        if (without != null) {
            System.setProperty(WITHOUT, without);
        }
        group = EventLoopGroup.builder().transport(Transport.IO_URING).handler(handler).start();
        return group.loops().get(0);
    }

    private static UringStats stats(EventLoop loop) {
        return ((UringPoller) loop.poller()).uringStats();
    }

    private static void echoOnce(EventLoopGroup g, byte[] message) throws Exception {
        try (Socket s = connect(g)) {
            s.getOutputStream().write(message);
            assertArrayEquals(message, readFully(s.getInputStream(), message.length));
        }
    }

    // ---------------------------------------------------------------- IORING_ENTER_NO_IOWAIT

    @Test
    @Timeout(60)
    void shouldWaitWithoutIowaitWhereTheKernelHasIt() throws Exception {
        assumeTrue(kernelHas(IORING_FEAT_NO_IOWAIT), "this kernel lacks IORING_FEAT_NO_IOWAIT (Linux 6.15)");
        EventLoop loop = start(new Echo(), null);
        UringStats stats = stats(loop);
        echoOnce(group, "idle after this".getBytes());
        long before = stats.waitsWithoutIowait();
        // A connection stays open, its multishot recv in flight: the waits that follow are the
        // ones the kernel would count as I/O wait without the flag.
        try (Socket s = connect(group)) {
            s.getOutputStream().write(1);
            assertEquals(1, s.getInputStream().read());
            await("the loop to wait again with a recv in flight", () -> stats.waitsWithoutIowait() > before);
        }
        assertTrue(stats.noIowait(), "the transport took IORING_ENTER_NO_IOWAIT");
        assertEquals(stats.waits(), stats.waitsWithoutIowait(), "every blocking wait passed the flag");
    }

    @Test
    @Timeout(60)
    void shouldWaitAsBeforeWithoutNoIowait() throws Exception {
        EventLoop loop = start(new Echo(), "no-iowait");
        UringStats stats = stats(loop);
        echoOnce(group, "served all the same".getBytes());
        await("a blocking wait", () -> stats.waits() > 0);
        assertFalse(stats.noIowait());
        assertEquals(0, stats.waitsWithoutIowait(), "no wait passed the flag");
    }
}
