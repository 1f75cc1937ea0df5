package dev.keel.zerocopy.proxy;

import dev.keel.io.ConnectOptions;
import dev.keel.io.Transport;
import dev.keel.io.testing.LoopAllocations;
import dev.keel.io.testing.ResourceSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy's flow on each transport: large transfers against a side that does not read hold
 * the other side back (each way) with the proxy's queues bounded by its water marks, every
 * byte arriving once the side reads again; and no heap allocation on the loop thread per
 * forwarded message, proven with the loop thread's allocated-bytes counter.
 */
@Timeout(180)
abstract class ProxyFlowTest {
    private static final long TOTAL = 32L << 20;
    /** What the proxy may hold for one held-back direction: the high mark, one read, a buffer of slack. */
    private static final long BOUND = 256 * 1024 + 2 * 64 * 1024;
    /**
     * SO_RCVBUF and SO_SNDBUF of the proxy's sockets in the back-pressure tests: fixed, so that
     * the kernel's autotuning (up to tcp_rmem's 32 MiB here) cannot swallow the whole transfer
     * before the proxy's own queues are put to the test.
     */
    private static final int SOCKET_BUFFER = 128 * 1024;

    private ProxyFixture f;

    abstract Transport transport();

    @BeforeEach
    void start() throws Exception {
        f = new ProxyFixture(transport(), InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 11));
    }

    private static void writePattern(OutputStream out, AtomicLong written) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        for (long w = 0; w < TOTAL; w += chunk.length) {
            for (int k = 0; k < chunk.length; k++) {
                chunk[k] = pattern(w + k);
            }
            out.write(chunk);
            written.addAndGet(chunk.length);
        }
    }

    /** Reads to the end of the stream, checking every byte against the pattern; returns the count. */
    private static long readPattern(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long got = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int k = 0; k < n; k++) {
                if (buf[k] != pattern(got + k)) {
                    throw new AssertionError("byte " + (got + k) + " differs");
                }
            }
            got += n;
        }
        return got;
    }

    /** Waits until {@code counter} stops moving: the writer behind it is held back. */
    private static long awaitStalled(LongSupplier counter) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long last = -1;
        int still = 0;
        while (still < 3) {
            Thread.sleep(200); // not a timing assertion: the writer is looked at until it stands still
            long now = counter.getAsLong();
            still = now == last ? still + 1 : 0;
            last = now;
            assertTrue(System.nanoTime() < deadline, "the writer never stood still: " + now);
        }
        return last;
    }

    private TcpProxy proxyWithSmallSocketBuffers() {
        return f.proxy(b -> b.options(TcpProxy.loopOptions().socketBuffers(SOCKET_BUFFER, SOCKET_BUFFER).build())
                .connectOptions(ConnectOptions.builder().socketBuffers(SOCKET_BUFFER, SOCKET_BUFFER).build()));
    }

    /** Pool bytes the proxy's loop holds now (queues, and on io_uring receive buffers held while paused). */
    private long proxyBufferBytes(TcpProxy proxy) {
        return ResourceSnapshot.ofSelf(proxy.group()).loops().get(0).bufferBytes();
    }

    @Test
    void shouldHoldBackTheClientWhileTheUpstreamDoesNotRead() throws Exception {
        CompletableFuture<Void> resume = new CompletableFuture<>();
        CompletableFuture<Long> upstreamGot = new CompletableFuture<>();
        f.upstreamDoes(s -> {
            s.setReceiveBufferSize(64 * 1024);
            resume.get(60, TimeUnit.SECONDS);
            upstreamGot.complete(readPattern(s.getInputStream()));
        });
        TcpProxy proxy = proxyWithSmallSocketBuffers();
        long idleBuffers = proxyBufferBytes(proxy);
        AtomicLong written = new AtomicLong();
        try (Socket s = f.client()) {
            Future<?> writer = f.threads.submit(() -> {
                writePattern(s.getOutputStream(), written);
                s.shutdownOutput();
                return null;
            });
            long stalled = awaitStalled(written::get);
            assertFalse(writer.isDone(), "the client is held back while the upstream does not read");
            assertTrue(stalled < TOTAL, "written " + stalled);
            long held = proxyBufferBytes(proxy) - idleBuffers;
            assertTrue(held <= BOUND, "the proxy holds " + held + " bytes > " + BOUND);
            resume.complete(null);
            writer.get(60, TimeUnit.SECONDS);
            assertEquals(TOTAL, upstreamGot.get(60, TimeUnit.SECONDS), "every byte reached the upstream, in order");
            assertEquals(-1, s.getInputStream().read(), "then the upstream's FIN came back");
        }
    }

    @Test
    void shouldHoldBackTheUpstreamWhileTheClientDoesNotRead() throws Exception {
        AtomicLong written = new AtomicLong();
        f.upstreamDoes(s -> {
            writePattern(s.getOutputStream(), written);
            s.shutdownOutput();
            s.getInputStream().read(); // until the client's FIN
        });
        TcpProxy proxy = proxyWithSmallSocketBuffers();
        long idleBuffers = proxyBufferBytes(proxy);
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024); // before the connect, so that the window stays small
            s.connect(proxy.address(), 5000);
            s.setSoTimeout(30_000);
            long stalled = awaitStalled(written::get);
            assertTrue(stalled < TOTAL, "the upstream is held back while the client does not read: " + stalled);
            long held = proxyBufferBytes(proxy) - idleBuffers;
            assertTrue(held <= BOUND, "the proxy holds " + held + " bytes > " + BOUND);
            assertEquals(TOTAL, readPattern(s.getInputStream()), "every byte reached the client, in order");
            s.shutdownOutput();
        }
    }

    /**
     * 64-byte messages take the copying paths; 16 KiB ones fill whole receive buffers, which
     * io_uring queues on the other side by adopting them instead of copying.
     */
    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {64, 16 * 1024})
    void shouldAllocateNothingOnTheLoopThreadPerForwardedMessage(int size) throws Exception {
        TcpProxy proxy = f.proxy();
        try (Socket s = f.client()) {
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] msg = new byte[size];
            byte[] back = new byte[size];
            LoopAllocations.assertNoneAllocated(proxy.group().loops().get(0).thread(), size > 64 ? 10_000 : 40_000,
                    "messages forwarded both ways", i -> {
                        msg[0] = (byte) i;
                        msg[size - 1] = (byte) (i >>> 8);
                        out.write(msg);
                        int got = 0;
                        while (got < size) {
                            int n = in.read(back, got, size - got);
                            if (n < 0) {
                                throw new IOException("closed");
                            }
                            got += n;
                        }
                        if (back[0] != msg[0] || back[size - 1] != msg[size - 1]) {
                            throw new AssertionError("round trip " + i + " carried other bytes");
                        }
                    });
            s.shutdownOutput();
            assertEquals(-1, in.read());
        }
    }
}
