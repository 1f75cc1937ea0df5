package dev.keel.io;

import dev.keel.io.stats.LoopStatsSnapshot;
import dev.keel.io.stats.PrometheusText;
import dev.keel.io.testing.PrometheusTextCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a relay needs of a loop, over real loopback sockets on each transport: back-pressure
 * across two connections ({@link Connection#feedFrom}: the writer's full output holds back its
 * source, and the writer itself goes on reading), a close with a reset
 * ({@link Connection#reset()}), and the loop's connect counters.
 */
abstract class RelayBehaviourTest {
    private static final long LOW = 16 * 1024;
    private static final long HIGH = 64 * 1024;

    private final List<EventLoopGroup> groups = new ArrayList<>();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    abstract Transport transport();

    private EventLoopGroup group(ConnectionHandler handler) {
        EventLoopGroup.Builder b = EventLoopGroup.builder().transport(transport()).unpinned().noReservations()
                .options(LoopOptions.builder().waterMarks(LOW, HIGH).build());
        EventLoopGroup g = handler == null ? b.withoutListener().start() : b.handler(handler).start();
        groups.add(g);
        return g;
    }

    @AfterEach
    void stop() throws Exception {
        try {
            for (EventLoopGroup g : groups) {
                for (EventLoop loop : g.loops()) {
                    await("loop " + loop.index() + " to hold nothing", () -> {
                        try {
                            return onLoop(loop, () -> loop.openConnections() == 0 && loop.buffersInUse() == 0);
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    });
                }
            }
        } finally {
            groups.forEach(EventLoopGroup::close);
            threads.shutdownNow();
        }
    }

    /**
     * A client's bytes go to an upstream that does not read them while it sends 8 MiB back: the
     * upstream connection's output passes its high water mark, which must hold back the client
     * (the source) and not the upstream connection, whose 8 MiB keep arriving. With the
     * default rule the two would wait for each other: the upstream connection's reading
     * paused, the upstream blocked in its write, never reading.
     */
    @Test
    @Timeout(90)
    void shouldHoldBackTheSourceAndGoOnReadingTheWriterPastTheHighWaterMark() throws Exception {
        long back = 8L << 20;
        long forth = 32L << 20;
        CompletableFuture<Void> startReading = new CompletableFuture<>();
        AtomicLong upstreamRead = new AtomicLong();
        try (ServerSocket upstream = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            Future<?> upstreamSide = threads.submit(() -> {
                try (Socket s = upstream.accept()) {
                    s.setReceiveBufferSize(64 * 1024);
                    OutputStream out = s.getOutputStream();
                    byte[] chunk = new byte[64 * 1024];
                    for (long w = 0; w < back; w += chunk.length) {
                        out.write(chunk); // blocks for good unless the relay goes on reading this side
                    }
                    startReading.get(60, TimeUnit.SECONDS);
                    InputStream in = s.getInputStream();
                    int n;
                    while ((n = in.read(chunk)) > 0) {
                        upstreamRead.addAndGet(n);
                    }
                }
                return null;
            });
            AtomicLong relayedBack = new AtomicLong();
            AtomicLong maxQueued = new AtomicLong();
            InetSocketAddress to = (InetSocketAddress) upstream.getLocalSocketAddress();
            EventLoopGroup relay = group(new ConnectionHandler() {
                @Override
                public void onOpen(Connection client) {
                    client.pauseReading(); // until the upstream side is open
                    client.loop().connect(to, new Upstream(client, relayedBack), ConnectOptions.defaults());
                }

                @Override
                public void onData(Connection client, MemorySegment data) {
                    Connection up = (Connection) client.attachment();
                    up.write(data);
                    maxQueued.accumulateAndGet(up.pendingOutputBytes(), Math::max);
                }

                @Override
                public void onInputClosed(Connection client) {
                    ((Connection) client.attachment()).shutdownOutput();
                }
            });
            try (Socket client = new Socket()) {
                client.connect(relay.address(), 5000);
                AtomicLong written = new AtomicLong();
                Future<?> writer = threads.submit(() -> {
                    OutputStream out = client.getOutputStream();
                    byte[] chunk = new byte[64 * 1024];
                    for (long w = 0; w < forth; w += chunk.length) {
                        out.write(chunk);
                        written.addAndGet(chunk.length);
                    }
                    client.shutdownOutput();
                    return null;
                });
                await("the upstream's 8 MiB to arrive while its own output is full", () -> relayedBack.get() == back);
                assertFalse(writer.isDone(), "the client is held back while the upstream does not read");
                assertTrue(written.get() < forth);
                // Past the high mark the source stops: the queue holds the mark and what one read added.
                long bound = HIGH + 2 * 64 * 1024;
                assertTrue(maxQueued.get() <= bound, "queued " + maxQueued.get() + " > " + bound);
                startReading.complete(null);
                writer.get(60, TimeUnit.SECONDS);
                upstreamSide.get(60, TimeUnit.SECONDS);
                assertEquals(forth, upstreamRead.get(), "every byte of the client reached the upstream");
                assertTrue(maxQueued.get() <= bound, "queued " + maxQueued.get() + " > " + bound);
            }
        }
    }

    /** The upstream side of the relay test: opens the client's reading and counts what comes back. */
    private static final class Upstream implements ConnectionHandler {
        private final Connection client;
        private final AtomicLong received;

        Upstream(Connection client, AtomicLong received) {
            this.client = client;
            this.received = received;
        }

        @Override
        public void onOpen(Connection upstream) {
            upstream.feedFrom(client);
            client.attach(upstream);
            client.resumeReading();
        }

        @Override
        public void onData(Connection upstream, MemorySegment data) {
            received.addAndGet(data.byteSize());
        }

        @Override
        public void onClose(Connection upstream, CloseReason reason) {
            if (client.isOpen()) {
                client.close();
            }
        }
    }

    @Test
    @Timeout(30)
    void shouldRefuseASourceOfAnotherLoopOrItself() throws Exception {
        CompletableFuture<Connection> accepted = new CompletableFuture<>();
        EventLoopGroup server = group(new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) {
                accepted.complete(c);
            }

            @Override
            public void onData(Connection c, MemorySegment data) {
            }
        });
        EventLoopGroup other = group(null);
        ClientProbe probe = new ClientProbe();
        other.connect(server.address(), probe, ConnectOptions.defaults());
        Connection outbound = probe.opened.get(20, TimeUnit.SECONDS);
        Connection c = accepted.get(20, TimeUnit.SECONDS);
        assertTrue(onLoop(c.loop(), () -> refused(() -> c.feedFrom(outbound))), "a source of another loop");
        assertTrue(onLoop(c.loop(), () -> refused(() -> c.feedFrom(c))), "the connection itself");
        onLoop(c.loop(), () -> {
            c.feedFrom(null);
            c.close();
            return null;
        });
        probe.closed.get(20, TimeUnit.SECONDS);
    }

    private static boolean refused(Runnable call) {
        try {
            call.run();
            return false;
        } catch (IllegalArgumentException expected) {
            return true;
        }
    }

    @Test
    @Timeout(30)
    void shouldResetSoThatThePeerReadsConnectionReset() throws Exception {
        EventLoopGroup server = group(new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                c.write(data);
                c.reset(); // the echo queued or not: a reset drops it
            }
        });
        try (Socket s = new Socket()) {
            s.connect(server.address(), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(new byte[100]);
            SocketException e = assertThrows(SocketException.class, () -> {
                InputStream in = s.getInputStream();
                while (in.read() >= 0) {
                    // until the reset arrives; an end of stream would leave this loop and fail
                }
            });
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
        }
    }

    @Test
    @Timeout(60)
    void shouldCountConnectsAttemptedSucceededAndFailed() throws Exception {
        EventLoopGroup server = group(new Echo());
        EventLoopGroup clients = group(null);
        int refusedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            refusedPort = s.getLocalPort();
        }
        for (int i = 0; i < 3; i++) {
            ClientProbe ok = new ClientProbe();
            clients.connect(server.address(), ok, ConnectOptions.defaults());
            Connection c = ok.opened.get(20, TimeUnit.SECONDS);
            onLoop(c.loop(), () -> {
                c.close();
                return null;
            });
            ok.closed.get(20, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 2; i++) {
            ClientProbe refused = new ClientProbe();
            clients.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), refusedPort), refused,
                    ConnectOptions.defaults());
            refused.failed.get(20, TimeUnit.SECONDS);
        }
        LoopStatsSnapshot s = clients.totalStats();
        assertEquals(5, s.connectsAttempted());
        assertEquals(3, s.connectsSucceeded());
        assertEquals(2, s.connectsFailed());
        assertEquals(0, server.totalStats().connectsAttempted(), "accepted connections are no connects");
        Map<String, Double> samples = PrometheusTextCheck.parse(PrometheusText.render(clients.stats()));
        assertEquals(5.0, samples.get("keel_connects_attempted_total{loop=\"0\"}"));
        assertEquals(3.0, samples.get("keel_connects_succeeded_total{loop=\"0\"}"));
        assertEquals(2.0, samples.get("keel_connects_failed_total{loop=\"0\"}"));
    }
}
