package dev.keel.zerocopy.proxy;

import dev.keel.zerocopy.testing.Descriptors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The splice proxy between real loopback clients and a real upstream server written with
 * java.net: every byte checked in both directions, half-closes and resets passed through,
 * back-pressure when the upstream stops reading, nothing left open.
 */
@Timeout(120)
class SpliceProxyTest {
    private ServerSocket upstream;
    private ExecutorService threads;
    private SpliceProxy proxy;

    @BeforeEach
    void start() throws IOException {
        upstream = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        threads = Executors.newVirtualThreadPerTaskExecutor();
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        upstream.close();
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
    }

    private SpliceProxy proxy() {
        proxy = SpliceProxy.builder().target((InetSocketAddress) upstream.getLocalSocketAddress()).start();
        return proxy;
    }

    /** Upstream behaviour: serve each accepted socket with {@code handler} on its own thread. */
    private void serveUpstream(SocketHandler handler) {
        threads.submit(() -> {
            while (!upstream.isClosed()) {
                Socket s;
                try {
                    s = upstream.accept();
                } catch (IOException e) {
                    return null;
                }
                threads.submit(() -> {
                    try (s) {
                        handler.handle(s);
                    }
                    return null;
                });
            }
            return null;
        });
    }

    @FunctionalInterface
    interface SocketHandler {
        void handle(Socket s) throws Exception;
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(proxy.address(), 5000);
        s.setSoTimeout(30_000);
        return s;
    }

    @Test
    void shouldCarryEveryByteBothWaysForManyConcurrentConnections() throws Exception {
        // Upstream echoes, and reports the digest of what reached it.
        List<CompletableFuture<byte[]>> upstreamDigests = new ArrayList<>();
        Semaphore accepted = new Semaphore(0);
        serveUpstream(s -> {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
            synchronized (upstreamDigests) {
                upstreamDigests.add(CompletableFuture.completedFuture(sha.digest()));
            }
            accepted.release();
        });
        proxy();
        int clients = 24;
        int bytes = 4 * 1024 * 1024;
        List<Future<byte[]>> sent = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int seed = c;
            sent.add(threads.submit(() -> {
                byte[] payload = new byte[bytes];
                new Random(seed).nextBytes(payload);
                try (Socket s = connect()) {
                    Future<byte[]> echoed = threads.submit(() -> s.getInputStream().readAllBytes());
                    OutputStream out = s.getOutputStream();
                    for (int off = 0; off < payload.length; off += 100_000) {
                        out.write(payload, off, Math.min(100_000, payload.length - off));
                    }
                    s.shutdownOutput(); // a half-close the proxy must pass on for the echo to end
                    assertArrayEquals(payload, echoed.get(60, TimeUnit.SECONDS), "echo of client " + seed);
                }
                return MessageDigest.getInstance("SHA-256").digest(payload);
            }));
        }
        List<byte[]> expected = new ArrayList<>();
        for (Future<byte[]> f : sent) {
            expected.add(f.get(90, TimeUnit.SECONDS));
        }
        assertTrue(accepted.tryAcquire(clients, 30, TimeUnit.SECONDS));
        List<String> got = new ArrayList<>();
        synchronized (upstreamDigests) {
            for (CompletableFuture<byte[]> d : upstreamDigests) {
                got.add(Arrays.toString(d.get()));
            }
        }
        List<String> want = expected.stream().map(Arrays::toString).toList();
        assertEquals(want.stream().sorted().toList(), got.stream().sorted().toList(), "what reached the upstream");
        await(() -> proxy.openSessions() == 0);
    }

    @Test
    void shouldPassHalfClosesThroughInBothDirections() throws Exception {
        serveUpstream(s -> {
            byte[] request = s.getInputStream().readAllBytes(); // ends only if the client's FIN came through
            OutputStream out = s.getOutputStream();
            out.write(("got " + request.length + " bytes; ").getBytes());
            out.write("and more after your FIN".getBytes());
            s.shutdownOutput();
        });
        proxy();
        try (Socket s = connect()) {
            s.getOutputStream().write(new byte[12345]);
            s.shutdownOutput();
            assertEquals("got 12345 bytes; and more after your FIN", new String(s.getInputStream().readAllBytes()));
        }
        await(() -> proxy.openSessions() == 0);
    }

    @Test
    void shouldStopReadingTheClientWhileTheUpstreamDoesNotRead() throws Exception {
        CompletableFuture<Void> resume = new CompletableFuture<>();
        AtomicLong received = new AtomicLong();
        serveUpstream(s -> {
            s.setReceiveBufferSize(64 * 1024);
            resume.get(60, TimeUnit.SECONDS); // not reading: the proxy must hold back
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                received.addAndGet(n);
            }
        });
        proxy();
        long total = 256L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        try (Socket s = connect()) {
            Future<?> writer = threads.submit(() -> {
                OutputStream out = s.getOutputStream();
                byte[] chunk = new byte[64 * 1024];
                for (long w = 0; w < total; w += chunk.length) {
                    out.write(chunk);
                    written.addAndGet(chunk.length);
                }
                s.shutdownOutput();
                return null;
            });
            Thread.sleep(1500);
            long stalled = written.get();
            Thread.sleep(500);
            assertEquals(stalled, written.get(), "the client is held back while the upstream does not read");
            assertTrue(stalled < 64L * 1024 * 1024, "buffered on the way: " + stalled);
            resume.complete(null);
            writer.get(60, TimeUnit.SECONDS);
        }
        await(() -> received.get() == total);
    }

    @Test
    void shouldPassAResetFromTheUpstreamToTheClient() throws Exception {
        serveUpstream(s -> {
            s.getInputStream().read();
            s.setSoLinger(true, 0); // close with RST
        });
        proxy();
        try (Socket s = connect()) {
            s.getOutputStream().write(1);
            assertThrows(SocketException.class, () -> {
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                    // until the reset arrives
                }
            });
        }
        await(() -> proxy.openSessions() == 0);
    }

    @Test
    void shouldResetTheClientWhenTheUpstreamRefusesAndLeaveNothingOpen() throws Exception {
        proxy();
        upstream.close(); // nobody listens there any more
        long before = Descriptors.open();
        for (int i = 0; i < 20; i++) {
            // The proxy resets the client once its own connect fails: seen as a reset (at
            // connect or read, depending on timing) or, at worst, an end of stream.
            try (Socket s = connect()) {
                assertEquals(-1, s.getInputStream().read());
            } catch (SocketException reset) {
                assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
            }
        }
        await(() -> proxy.openSessions() == 0);
        await(() -> Descriptors.open() <= before);
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(5);
        }
    }
}
