package dev.keel.zerocopy.proxy;

import dev.keel.io.Transport;
import dev.keel.io.testing.ResourceSnapshot;
import dev.keel.zerocopy.testing.Descriptors;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What every proxy test needs: an upstream server written with java.net on its own virtual
 * threads (each accepted socket served by the test's {@link SocketHandler}, an echo by
 * default), a {@link TcpProxy} in front of it on the transport under test, clients, and the
 * leak accounting — after each test every session over, the proxy's loops holding no
 * connection and no pool buffer, the process's descriptors back where they were with the
 * proxy running, and once the proxy is closed back where they were before it started.
 */
final class ProxyFixture implements AutoCloseable {
    /** How the upstream serves one accepted socket (closed by the fixture afterwards). */
    @FunctionalInterface
    interface SocketHandler {
        void handle(Socket s) throws Exception;
    }

    /** Echoes every byte until the client's FIN, then sends its own. */
    static final SocketHandler ECHO = s -> {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        s.shutdownOutput();
    };

    final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    final ServerSocket upstream;
    private final Transport transport;
    private volatile SocketHandler behaviour = ECHO;
    /** Upstream sockets accepted and not closed yet. */
    final java.util.concurrent.atomic.AtomicInteger serving = new java.util.concurrent.atomic.AtomicInteger();
    private final long descriptorsBefore;
    private TcpProxy proxy;
    private long descriptorsWithProxy;

    ProxyFixture(Transport transport, InetAddress host) throws Exception {
        this.transport = transport;
        this.upstream = new ServerSocket(0, 512, host);
        threads.submit(this::acceptLoop);
        // The JDK opens descriptors of its own on first use of sockets and virtual-thread I/O,
        // and of its security provider (/dev/random, /dev/urandom, for the tests' digests):
        // both used once before counting.
        java.security.MessageDigest.getInstance("SHA-256");
        try (Socket s = new Socket()) {
            s.connect(upstream.getLocalSocketAddress(), 5000);
            s.getOutputStream().write(7);
            s.shutdownOutput();
            assertEquals(7, s.getInputStream().read());
        }
        await("the upstream to close the warm-up connection", () -> serving.get() == 0);
        descriptorsBefore = Descriptors.open();
    }

    private Void acceptLoop() {
        while (!upstream.isClosed()) {
            Socket s;
            try {
                s = upstream.accept();
            } catch (IOException e) {
                return null;
            }
            SocketHandler h = behaviour;
            serving.incrementAndGet();
            threads.submit(() -> {
                try (s) {
                    h.handle(s);
                } finally {
                    serving.decrementAndGet();
                }
                return null;
            });
        }
        return null;
    }

    /** Serves the upstream's next connections with {@code h}. */
    void upstreamDoes(SocketHandler h) {
        behaviour = h;
    }

    InetSocketAddress upstreamAddress() {
        return (InetSocketAddress) upstream.getLocalSocketAddress();
    }

    /** Starts the proxy, unpinned, on the transport under test, forwarding to the upstream. */
    TcpProxy proxy(UnaryOperator<TcpProxy.Builder> settings) {
        proxy = settings.apply(TcpProxy.builder().unpinned().transport(transport).upstream(upstreamAddress())).start();
        descriptorsWithProxy = Descriptors.open();
        return proxy;
    }

    TcpProxy proxy() {
        return proxy(b -> b);
    }

    Socket client() throws IOException {
        Socket s = new Socket();
        s.connect(proxy.address(), 5000);
        s.setSoTimeout(30_000);
        return s;
    }

    /**
     * Every session over and nothing held: the loops' connections and pool buffers, the
     * descriptors of the proxy's process as they were with the proxy just started.
     */
    void assertNothingHeld() throws Exception {
        if (proxy == null) {
            return;
        }
        await("every session to end", () -> proxy.totalStats().sessionsOpen() == 0);
        await("the upstream to close its sockets", () -> serving.get() == 0);
        await("the loops to hold no connection and no buffer", () -> {
            List<ResourceSnapshot.LoopUsage> loops = ResourceSnapshot.ofSelf(proxy.group()).loops();
            return loops.stream().allMatch(u -> u.connections() == 0 && u.buffersInUse() == 0);
        });
        await("descriptors back to " + descriptorsWithProxy, () -> Descriptors.open() <= descriptorsWithProxy);
    }

    @Override
    public void close() throws Exception {
        try {
            assertNothingHeld();
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            upstream.close();
            threads.shutdownNow();
            threads.awaitTermination(10, TimeUnit.SECONDS);
        }
        await("descriptors back to " + descriptorsBefore + " once the proxy stopped",
                () -> Descriptors.open() <= descriptorsBefore);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; descriptors: "
                        + String.join(" ", Descriptors.list()));
            }
            Thread.sleep(5);
        }
    }
}
