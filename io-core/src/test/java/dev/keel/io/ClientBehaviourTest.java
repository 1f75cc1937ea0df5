package dev.keel.io;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outbound connections over real loopback sockets, written once and run on each transport by
 * a thin subclass: connects over IPv4 and IPv6, refusals, timeouts against a full accept
 * queue, a thousand connects at once, a client and a server in one group, and after every
 * test the loops' connections, buffers and timers, and the process's descriptors, back where
 * they were.
 */
abstract class ClientBehaviourTest {
    private final List<EventLoopGroup> groups = new ArrayList<>();
    private long descriptorsBefore = -1;

    abstract Transport transport();

    /** Loop settings of this suite; subclasses add transport options. */
    LoopOptions.Builder options() {
        return LoopOptions.builder().maxConnections(2048);
    }

    EventLoopGroup server(ConnectionHandler handler, InetAddress host, int loops) throws IOException {
        settle();
        EventLoopGroup g = EventLoopGroup.builder().transport(transport()).loops(loops).unpinned().noReservations()
                .options(options().build()).host(host).handler(handler).start();
        groups.add(g);
        return g;
    }

    EventLoopGroup clients(int loops) throws IOException {
        settle();
        EventLoopGroup g = EventLoopGroup.builder().transport(transport()).loops(loops).unpinned().noReservations()
                .options(options().build()).withoutListener().start();
        assertFalse(g.listening());
        assertThrows(IllegalStateException.class, g::address);
        groups.add(g);
        return g;
    }

    private void settle() throws IOException {
        if (descriptorsBefore < 0) {
            UringTests.settleJdkDescriptors();
        }
    }

    static long descriptors() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** Marks the descriptors held now (groups started, no connection yet) as the level to come back to. */
    void baseline() throws IOException {
        descriptorsBefore = descriptors();
    }

    /** Every loop of every group holds no connection, pool buffer or timer, and the descriptors are back. */
    void assertNothingHeld() throws Exception {
        for (EventLoopGroup g : groups) {
            for (EventLoop loop : g.loops()) {
                await("loop " + loop.index() + " to hold nothing", () -> {
                    try {
                        return onLoop(loop, () -> loop.openConnections() == 0 && loop.buffersInUse() == 0
                                && loop.pendingTimers() == 0);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
            }
        }
        if (descriptorsBefore >= 0) {
            await("descriptors back to " + descriptorsBefore, () -> {
                try {
                    return descriptors() == descriptorsBefore;
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    @AfterEach
    void stopGroups() throws Exception {
        try {
            assertNothingHeld();
        } finally {
            for (EventLoopGroup g : groups) {
                g.close();
            }
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    static void write(Connection c, byte[] data) throws Exception {
        onLoop(c.loop(), () -> {
            MemorySegment seg = Arena.ofAuto().allocate(data.length);
            MemorySegment.copy(data, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            c.write(seg);
            return null;
        });
    }

    private void talk(EventLoopGroup server, EventLoopGroup clients, InetSocketAddress to) throws Exception {
        ClientProbe probe = new ClientProbe();
        clients.connect(to, probe, ConnectOptions.defaults());
        Connection c = probe.opened.get(20, TimeUnit.SECONDS);
        write(c, bytes("hello keel"));
        await("the echo", () -> probe.received().length == 10);
        assertArrayEquals(bytes("hello keel"), probe.received());
        onLoop(c.loop(), () -> {
            c.close();
            return null;
        });
        assertEquals(CloseReason.LOCAL, probe.closed.get(20, TimeUnit.SECONDS));
        assertFalse(probe.failed.isDone());
    }

    @Test
    @Timeout(60)
    void shouldConnectOverIpv4AndTalkToAServer() throws Exception {
        Echo echo = new Echo();
        EventLoopGroup server = server(echo, InetAddress.getLoopbackAddress(), 1);
        EventLoopGroup clients = clients(1);
        baseline();
        talk(server, clients, server.address());
        await("the server to see the close", () -> echo.closedFor(CloseReason.PEER_CLOSED) == 1);
    }

    @Test
    @Timeout(60)
    void shouldConnectOverIpv6() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        Assumptions.assumeTrue(ipv6Works(), "no IPv6 loopback here");
        Echo echo = new Echo();
        EventLoopGroup server = server(echo, v6, 1);
        assertTrue(server.address().getAddress() instanceof Inet6Address);
        EventLoopGroup clients = clients(1);
        baseline();
        talk(server, clients, server.address());
        // With a local address of the family: bound before the connect.
        ClientProbe probe = new ClientProbe();
        clients.connect(server.address(), probe,
                ConnectOptions.builder().localAddress(new InetSocketAddress(v6, 0)).build());
        Connection c = probe.opened.get(20, TimeUnit.SECONDS);
        onLoop(c.loop(), () -> {
            c.close();
            return null;
        });
        probe.closed.get(20, TimeUnit.SECONDS);
    }

    static boolean ipv6Works() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
            return s.getLocalPort() > 0;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    @Timeout(60)
    void shouldConnectWithKeepAliveAndALocalPort() throws Exception {
        Echo echo = new Echo();
        EventLoopGroup server = server(echo, InetAddress.getLoopbackAddress(), 1);
        EventLoopGroup clients = clients(1);
        baseline();
        ClientProbe probe = new ClientProbe();
        clients.connect(server.address(), probe, ConnectOptions.builder()
                .keepAlive(Duration.ofSeconds(30), Duration.ofSeconds(5), 3)
                .localAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).build());
        Connection c = probe.opened.get(20, TimeUnit.SECONDS);
        int fd = onLoop(c.loop(), c::fd);
        if (fd >= 0) { // not with direct descriptors: the socket lives only in the ring's file table
            assertEquals(1, dev.keel.ffm.Sockets.getInt(fd, dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET,
                    dev.keel.ffm.gen.LinuxConstants.SO_KEEPALIVE));
            assertEquals(30, dev.keel.ffm.Sockets.getInt(fd, dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP,
                    dev.keel.ffm.gen.LinuxConstants.TCP_KEEPIDLE));
            assertEquals(1, dev.keel.ffm.Sockets.getInt(fd, dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP,
                    dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY));
        }
        onLoop(c.loop(), () -> {
            c.abort();
            return null;
        });
        assertEquals(CloseReason.ABORTED, probe.closed.get(20, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(60)
    void shouldTellTheHandlerConnectionRefusedForAClosedPort() throws Exception {
        EventLoopGroup clients = clients(1);
        baseline();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ClientProbe probe = new ClientProbe();
        clients.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), probe, ConnectOptions.defaults());
        ConnectFailure f = probe.failed.get(20, TimeUnit.SECONDS);
        assertEquals(Errno.ECONNREFUSED, f.errno(), f.toString());
        assertEquals("ECONNREFUSED", f.errnoName());
        assertFalse(f.timedOut());
        assertFalse(probe.opened.isDone());
        assertFalse(probe.closed.isDone());
    }

    @Test
    @Timeout(60)
    void shouldTimeOutAConnectToAListenerWhoseAcceptQueueIsFull() throws Exception {
        EventLoopGroup clients = clients(1);
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Never accepted: backlog 1 holds two connections; SYNs after that are dropped.
            List<SocketChannel> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    SocketChannel ch = SocketChannel.open();
                    ch.configureBlocking(false);
                    ch.connect(full.getLocalSocketAddress());
                    fillers.add(ch);
                }
                Thread.sleep(100); // not a timing assertion: lets the fillers' handshakes reach the queue
                baseline();
                ClientProbe probe = new ClientProbe();
                clients.connect((InetSocketAddress) full.getLocalSocketAddress(), probe,
                        ConnectOptions.builder().timeout(Duration.ofMillis(300)).build());
                ConnectFailure f = probe.failed.get(20, TimeUnit.SECONDS);
                assertTrue(f.timedOut(), f.toString());
                assertEquals(0, f.errno());
                assertFalse(probe.opened.isDone());
                assertNothingHeld();
                descriptorsBefore = -1; // checked here, while the fillers still hold theirs
            } finally {
                for (SocketChannel ch : fillers) {
                    ch.close();
                }
            }
        }
    }

    @Test
    @Timeout(120)
    void shouldOpenAndCloseAThousandConcurrentConnects() throws Exception {
        Echo echo = new Echo();
        EventLoopGroup server = server(echo, InetAddress.getLoopbackAddress(), 2);
        EventLoopGroup clients = clients(2);
        baseline();
        int n = 1000;
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        List<ConnectFailure> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        ConnectionHandler h = new ConnectionHandler() {
            @Override
            public void onOpen(Connection connection) {
                opened.incrementAndGet();
                connection.close();
            }

            @Override
            public void onData(Connection connection, MemorySegment data) {
            }

            @Override
            public void onClose(Connection connection, CloseReason reason) {
                closed.incrementAndGet();
            }

            @Override
            public void onConnectFailed(ConnectFailure failure) {
                failures.add(failure);
            }
        };
        for (int i = 0; i < n; i++) {
            clients.connect(i, server.address(), h, ConnectOptions.defaults());
        }
        await("1,000 connects to open and close", () -> closed.get() + failures.size() == n);
        assertEquals(List.of(), failures);
        assertEquals(n, opened.get());
        await("the server to see 1,000 closes", () -> echo.closedTotal() == n);
    }

    @Test
    @Timeout(60)
    void shouldTalkBetweenAClientAndAServerOfOneGroup() throws Exception {
        Echo echo = new Echo();
        EventLoopGroup group = server(echo, InetAddress.getLoopbackAddress(), 1);
        baseline();
        talk(group, group, group.address());
        await("the server side to close", () -> echo.closedFor(CloseReason.PEER_CLOSED) == 1);
    }

    @Test
    @Timeout(60)
    void shouldFailPendingConnectsWhenTheLoopShutsDown() throws Exception {
        EventLoopGroup clients = EventLoopGroup.builder().transport(transport()).unpinned().noReservations()
                .options(options().build()).withoutListener().start();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<SocketChannel> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    SocketChannel ch = SocketChannel.open();
                    ch.configureBlocking(false);
                    ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                    ch.connect(full.getLocalSocketAddress());
                    fillers.add(ch);
                }
                Thread.sleep(100);
                ClientProbe probe = new ClientProbe();
                clients.connect((InetSocketAddress) full.getLocalSocketAddress(), probe, ConnectOptions.defaults());
                clients.close();
                ConnectFailure f = probe.failed.get(20, TimeUnit.SECONDS);
                assertFalse(f.timedOut());
                // Failed in its connect (the loop stopping) or before it started (the stop came first).
                assertTrue(f.toString().contains("SHUTDOWN") || f.toString().contains("shutting down"), f.toString());
            } finally {
                for (SocketChannel ch : fillers) {
                    ch.close();
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldReconnectWithBackOffUntilTheServerComesAndAfterItCloses() throws Exception {
        EventLoopGroup clients = clients(1);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ConnectionHandler h = new ConnectionHandler() {
            @Override
            public void onOpen(Connection connection) {
                opened.incrementAndGet();
            }

            @Override
            public void onData(Connection connection, MemorySegment data) {
            }

            @Override
            public void onConnectFailed(ConnectFailure failure) {
                if (failure.errno() == Errno.ECONNREFUSED) {
                    refused.incrementAndGet();
                }
            }
        };
        EventLoop loop = clients.loops().get(0);
        InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        Reconnector r = Reconnector.start(loop, to, ConnectOptions.defaults(), h, Duration.ofMillis(20),
                Duration.ofMillis(80));
        await("three refusals", () -> refused.get() >= 3);
        assertEquals(Duration.ofMillis(80), onLoop(loop, r::backoff), "the back-off doubled up to its maximum");
        ConnectionHandler closer = new ConnectionHandler() {
            @Override
            public void onOpen(Connection connection) {
                connection.close(); // the server hangs up on every connection: the client reconnects each time
            }

            @Override
            public void onData(Connection connection, MemorySegment data) {
            }
        };
        EventLoopGroup server = EventLoopGroup.builder().transport(transport()).unpinned().noReservations()
                .options(options().build()).port(port).handler(closer).start();
        groups.add(server);
        await("two connections opened, the second after the server closed the first", () -> opened.get() >= 2);
        // Each open starts the back-off over (20 ms for the retry after its close, 40 ms next);
        // without the reset it would have stayed at its 80 ms maximum.
        assertTrue(onLoop(loop, r::backoff).compareTo(Duration.ofMillis(40)) <= 0, "an open connection resets the back-off");
        r.stop();
        long after = onLoop(loop, r::attempts);
        Thread.sleep(200); // not a timing assertion: stopped means no attempt at all, however long we look
        assertEquals(after, (long) onLoop(loop, r::attempts), "no attempt after stop()");
    }
}
