package dev.keel.io;

import dev.keel.ffm.IoUring;
import dev.keel.io.uring.UringPoller;
import dev.keel.io.uring.UringStats;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NO_IOWAIT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_RECVSEND_BUNDLE;
import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
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

    // ---------------------------------------------------------------- IORING_RECVSEND_BUNDLE

    /** An echo whose first connection starts with its reading paused, until the test resumes it. */
    static final class PausedEcho extends Echo {
        final AtomicReference<Connection> first = new AtomicReference<>();

        @Override
        public void onOpen(Connection c) {
            super.onOpen(c);
            if (first.compareAndSet(null, c)) {
                c.pauseReading();
            }
        }
    }

    /**
     * While the server reads nothing, the client writes until its socket takes no more: the
     * server's receive queue then holds far more than one provided buffer, and the first recv
     * after reading resumes finds all of it at once. Every byte must come back, in order, and
     * every receive buffer must be back with the pool or the kernel afterwards.
     */
    private UringStats burstWhilePaused(String without) throws Exception {
        PausedEcho echo = new PausedEcho();
        EventLoop loop = start(echo, without);
        UringStats stats = stats(loop);
        int baseline = onLoop(loop, loop::buffersInUse);
        Random random = new Random(16);
        ByteBuffer out = ByteBuffer.allocate(8 * 1024 * 1024);
        try (SocketChannel ch = SocketChannel.open(group.address())) {
            ch.configureBlocking(false);
            await("the connection to open", () -> echo.first.get() != null);
            for (int quiet = 0; quiet < 20 && out.hasRemaining(); ) {
                int before = out.position();
                byte[] chunk = new byte[Math.min(64 * 1024, out.remaining())];
                random.nextBytes(chunk);
                int n = ch.write(ByteBuffer.wrap(chunk));
                out.put(chunk, 0, n);
                quiet = out.position() == before ? quiet + 1 : 0;
                Thread.sleep(n == 0 ? 10 : 0);
            }
            int sent = out.position();
            assertTrue(sent > 4 * 16 * 1024, "the server's socket holds several receive buffers' worth: " + sent);
            Connection c = echo.first.get();
            loop.execute(c::resumeReading);
            ch.configureBlocking(true);
            ByteBuffer back = ByteBuffer.allocate(sent);
            while (back.hasRemaining()) {
                if (ch.read(back) < 0) {
                    throw new AssertionError("the echo ended after " + back.position() + " of " + sent + " bytes");
                }
            }
            assertArrayEquals(java.util.Arrays.copyOf(out.array(), sent), back.array(), "every byte back, in order");
        }
        await("the connection to close", () -> loop.stats().closed() == 1);
        assertEquals(baseline, (int) onLoop(loop, loop::buffersInUse), "every receive buffer back");
        echoOnce(group, "and on".getBytes());
        assertEquals(0, loop.stats().loopFailures(), "the loop met nothing unexpected");
        return stats;
    }

    @Test
    @Timeout(60)
    void shouldTakeABundleOfBuffersPerReceiveWhereTheKernelCan() throws Exception {
        assumeTrue(kernelHas(IORING_FEAT_RECVSEND_BUNDLE), "this kernel lacks IORING_FEAT_RECVSEND_BUNDLE (Linux 6.10)");
        UringStats stats = burstWhilePaused(null);
        assertTrue(stats.receiveBundles(), "the transport took IORING_RECVSEND_BUNDLE");
        assertTrue(stats.bundles() > 0, "a completion carried several buffers");
        assertTrue(stats.largestBundle() > 1, "largest bundle " + stats.largestBundle());
        assertTrue(stats.bundledBuffers() >= 2 * stats.bundles(), "each bundle counted from two buffers");
    }

    @Test
    @Timeout(60)
    void shouldTakeBundlesOfWholeBuffersFromARingNotConsumedIncrementally() throws Exception {
        assumeTrue(kernelHas(IORING_FEAT_RECVSEND_BUNDLE), "this kernel lacks IORING_FEAT_RECVSEND_BUNDLE (Linux 6.10)");
        UringStats stats = burstWhilePaused("incremental");
        assertFalse(stats.incrementalBuffers());
        assertTrue(stats.largestBundle() > 1, "largest bundle " + stats.largestBundle());
    }

    @Test
    @Timeout(60)
    void shouldTakeOneBufferPerReceiveWithoutBundles() throws Exception {
        UringStats stats = burstWhilePaused("bundles");
        assertFalse(stats.receiveBundles());
        assertEquals(0, stats.bundles(), "no completion carried more than one buffer");
    }

    // ---------------------------------------------------------------- IOU_PBUF_RING_INC

    /**
     * Two connections take turns echoing 64-byte messages; returns the loop's stats after every
     * byte came back and every buffer is back.
     */
    private UringStats shortMessages(String without, int messages) throws Exception {
        EventLoop loop = start(new Echo(), without);
        UringStats stats = stats(loop);
        int baseline = onLoop(loop, loop::buffersInUse);
        byte[] message = new byte[64];
        try (Socket a = connect(group); Socket b = connect(group)) {
            for (int i = 0; i < messages; i++) {
                Socket s = i % 2 == 0 ? a : b;
                java.util.Arrays.fill(message, (byte) i);
                s.getOutputStream().write(message);
                assertArrayEquals(message, readFully(s.getInputStream(), message.length));
            }
        }
        await("both connections to close", () -> loop.stats().closed() == 2);
        assertEquals(baseline, (int) onLoop(loop, loop::buffersInUse), "every receive buffer back");
        assertEquals(0, loop.stats().loopFailures(), "the loop met nothing unexpected");
        return stats;
    }

    @Test
    @Timeout(60)
    void shouldReceiveShortMessagesIntoOneSharedBufferWhereTheKernelCan() throws Exception {
        assumeTrue(kernelAtLeast(6, 12), "incrementally consumed buffer rings need Linux 6.12");
        int messages = 200; // 12,800 bytes: less than one 16 KiB receive buffer
        UringStats stats = shortMessages(null, messages);
        assertTrue(stats.incrementalBuffers(), "the ring was registered with IOU_PBUF_RING_INC");
        assertEquals(messages, stats.partialBuffers(),
                "every message took only its 64 bytes of a buffer the kernel kept (IORING_CQE_F_BUF_MORE)");
    }

    @Test
    @Timeout(60)
    void shouldTakeAWholeBufferPerReceiveWithoutIncrementalConsumption() throws Exception {
        UringStats stats = shortMessages("incremental", 20);
        assertFalse(stats.incrementalBuffers());
        assertEquals(0, stats.partialBuffers(), "no completion left its buffer with the kernel");
    }

    // ---------------------------------------------------------------- IORING_REGISTER_MEM_REGION

    private static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version").split("[.-]");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    @Test
    @Timeout(60)
    void shouldTimeBlockingWaitsThroughTheRegisteredWaitRegion() throws Exception {
        assumeTrue(kernelAtLeast(6, 13), "wait regions need Linux 6.13");
        EventLoop loop = start(new Echo(), null);
        UringStats stats = stats(loop);
        echoOnce(group, "then wait".getBytes());
        // A timer due later: the loop's wait until then is a timed one.
        java.util.concurrent.CountDownLatch fired = new java.util.concurrent.CountDownLatch(1);
        loop.execute(() -> loop.schedule(java.time.Duration.ofMillis(50), fired::countDown));
        assertTrue(fired.await(20, java.util.concurrent.TimeUnit.SECONDS), "the timer fired");
        assertTrue(stats.waitRegion(), "the transport registered a wait region");
        assertTrue(stats.waitsThroughRegion() > 0, "the wait for the timer read its timeout from the region");
        echoOnce(group, "and serve on".getBytes());
    }

    @Test
    @Timeout(60)
    void shouldTimeBlockingWaitsAsBeforeWithoutTheWaitRegion() throws Exception {
        EventLoop loop = start(new Echo(), "wait-region");
        UringStats stats = stats(loop);
        echoOnce(group, "then wait".getBytes());
        java.util.concurrent.CountDownLatch fired = new java.util.concurrent.CountDownLatch(1);
        loop.execute(() -> loop.schedule(java.time.Duration.ofMillis(50), fired::countDown));
        assertTrue(fired.await(20, java.util.concurrent.TimeUnit.SECONDS), "the timer fired: timed waits work without the region");
        await("a blocking wait", () -> stats.waits() > 0);
        assertFalse(stats.waitRegion());
        assertEquals(0, stats.waitsThroughRegion(), "no wait went through a region");
    }
}
