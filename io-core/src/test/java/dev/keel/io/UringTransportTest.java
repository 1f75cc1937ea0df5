package dev.keel.io;

import dev.keel.io.uring.UringPoller;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.keel.ffm.Files;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY;
import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static dev.keel.io.EchoBehaviourTest.openFds;
import static dev.keel.io.EchoBehaviourTest.readFully;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What only a completion transport can get wrong: requests still in the kernel when their
 * connection closes (their buffers, the fds they produce) and completions beyond the size of
 * the completion queue.
 */
class UringTransportTest {
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
    }

    /** Echo that remembers its open connections, so the test can close them from the loop. */
    static final class Tracking extends Echo {
        final Set<Connection> open = ConcurrentHashMap.newKeySet();

        @Override
        public void onOpen(Connection c) {
            super.onOpen(c);
            open.add(c);
        }

        @Override
        public void onClose(Connection c, CloseReason reason) {
            open.remove(c);
            super.onClose(c, reason);
        }
    }

    @Test
    @Timeout(60)
    void shouldReturnEveryBufferAndFdWhenConnectionsCloseWithRequestsInFlight() throws Exception {
        Tracking echo = new Tracking();
        LoopOptions options = LoopOptions.builder().waterMarks(32 * 1024, 128 * 1024).build();
        group = EventLoopGroup.builder().transport(Transport.IO_URING).options(options).handler(echo).start();
        EventLoop loop = group.loops().get(0);
        UringTests.settleJdkDescriptors();
        long fdsBefore = openFds();
        int baseline = onLoop(loop, loop::buffersInUse);
        List<Socket> idle = new ArrayList<>();
        List<SocketChannel> silent = new ArrayList<>();
        try {
            // Idle connections: each has a multishot recv armed in the kernel.
            for (int i = 0; i < 100; i++) {
                Socket s = connect(group);
                s.getOutputStream().write(i);
                assertEquals(i, s.getInputStream().read());
                idle.add(s);
            }
            // Connections that never read: their echoes fill the sockets, a send waits in the
            // kernel, reading pauses and what still arrives is held in receive buffers.
            // Non-blocking writes from this thread: no writer is left blocked in a socket.
            ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
            for (int i = 0; i < 10; i++) {
                SocketChannel ch = SocketChannel.open(group.address());
                ch.configureBlocking(false);
                silent.add(ch);
            }
            for (int quiet = 0; quiet < 20; ) {
                long moved = 0;
                for (SocketChannel ch : silent) {
                    moved += ch.write(chunk.clear());
                }
                quiet = moved == 0 ? quiet + 1 : 0;
                Thread.sleep(moved == 0 ? 10 : 0);
            }
            await("110 connections open", () -> echo.open.size() == 110);
            assertTrue(echo.maxPending.get() >= 128 * 1024, "output backed up to the high water mark");
            assertTrue(onLoop(loop, loop::buffersInUse) > baseline, "queued output and held receives use pool buffers");

            loop.execute(() -> List.copyOf(echo.open).forEach(Connection::abort));
            await("every connection to close", () -> echo.closedTotal() == 110);
            assertEquals(110, echo.closedFor(CloseReason.ABORTED));
            assertEquals(0, (int) onLoop(loop, loop::openConnections), "every slot released");
            assertEquals(baseline, (int) onLoop(loop, loop::buffersInUse),
                    "every buffer back: queued output freed once its send completed, held receives re-provided");
        } finally {
            for (Socket s : idle) {
                s.close();
            }
            for (SocketChannel ch : silent) {
                ch.close();
            }
        }
        assertEquals(fdsBefore, openFds(), "every socket closed through the ring");
        try (Socket s = connect(group)) {
            s.getOutputStream().write("after".getBytes());
            assertArrayEquals("after".getBytes(), readFully(s.getInputStream(), 5), "the loop serves on");
        }
    }

    /**
     * An echo of whole receive buffers queues the buffers themselves (a spare is lent to the
     * kernel in their place) instead of copying them: every byte still comes back in order,
     * the adoption is counted, and every buffer is back in the pool afterwards.
     */
    @Test
    @Timeout(60)
    void shouldEchoWholeReceiveBuffersWithoutCopyingThem() throws Exception {
        group = EventLoopGroup.builder().transport(Transport.IO_URING).handler(new Echo()).start();
        EventLoop loop = group.loops().get(0);
        int baseline = onLoop(loop, loop::buffersInUse);
        byte[] sent = new byte[8 * 1024 * 1024];
        new java.util.Random(4).nextBytes(sent);
        try (Socket s = connect(group)) {
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    s.getOutputStream().write(sent);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = readFully(s.getInputStream(), sent.length);
            writer.join(10_000);
            assertArrayEquals(sent, back, "every byte echoed, in order");
        }
        long adopted = onLoop(loop, () -> ((UringPoller) loop.poller()).adoptedWrites());
        assertTrue(adopted > 0, "whole receive buffers were queued without a copy: " + adopted);
        await("the connection to close", () -> group.loops().get(0).stats().closed() == 1);
        assertEquals(baseline, (int) onLoop(loop, loop::buffersInUse), "every adopted buffer back in the pool");
    }

    /**
     * Under SQPOLL the kernel thread accepts on its own schedule, so accepts complete after the
     * loop stopped wanting them; the fds they produce must be closed, not leaked.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(60)
    void shouldCloseWhatAMultishotAcceptProducesWhileTheGroupStops(boolean sqPoll) throws Exception {
        LoopOptions.Builder options = LoopOptions.builder();
        if (sqPoll) {
            options.sqPoll(java.time.Duration.ofMillis(10), -1);
        }
        UringTests.settleJdkDescriptors();
        long fdsBefore = openFds();
        for (int round = 0; round < 10; round++) {
            EventLoopGroup g = EventLoopGroup.builder().transport(Transport.IO_URING).options(options.build())
                    .handler(new Echo()).start();
            AtomicBoolean stop = new AtomicBoolean();
            List<Socket> clients = new ArrayList<>();
            Thread connector = Thread.ofPlatform().start(() -> {
                while (!stop.get() && clients.size() < 1000) {
                    Socket s = new Socket();
                    clients.add(s);
                    try {
                        s.connect(g.address(), 1000);
                    } catch (IOException refused) {
                        return; // the listener is gone
                    }
                }
            });
            Thread.sleep(5 + round);
            g.close(); // cancels the multishot accept while connections keep arriving
            stop.set(true);
            connector.join(10_000);
            for (Socket s : clients) {
                s.close();
            }
        }
        assertEquals(fdsBefore, openFds(), "descriptors after 10 groups stopped in a connection burst");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(30)
    void shouldCloseAnAcceptedSocketTheTableHasNoRoomFor(boolean direct) throws Exception {
        Echo echo = new Echo();
        group = EventLoopGroup.builder().transport(Transport.IO_URING)
                .options(LoopOptions.builder().maxConnections(1).directDescriptors(direct).build())
                .handler(echo).start();
        EventLoop loop = group.loops().get(0);
        UringTests.settleJdkDescriptors();
        long fdsBefore = openFds();
        try (Socket served = connect(group)) {
            served.getOutputStream().write(1);
            assertEquals(1, served.getInputStream().read());
            try (Socket refused = connect(group)) {
                await("the second connection to be refused", () -> loop.stats().rejected() == 1);
                try {
                    assertEquals(-1, refused.getInputStream().read(), "the refused socket is closed");
                } catch (java.net.SocketException reset) {
                    // closed with unread data in flight: a reset says the same
                }
            }
            served.getOutputStream().write(2);
            assertEquals(2, served.getInputStream().read(), "the served connection is untouched");
        }
        await("the served connection to close", () -> echo.closedTotal() == 1);
        assertEquals(fdsBefore, openFds(), "the refused socket was closed, not leaked");
    }

    @Test
    @Timeout(60)
    void shouldLoseNoCompletionWhenTheCompletionQueueOverflows() throws Exception {
        // 8 SQ entries, 64 CQ entries, 100 busy connections: the CQ overflows and the kernel
        // keeps the rest (IORING_FEAT_NODROP) until the loop brings them in.
        LoopOptions options = LoopOptions.builder().ringEntries(8).build();
        Echo echo = new Echo();
        group = EventLoopGroup.builder().transport(Transport.IO_URING).options(options).handler(echo).start();
        long verified = EchoClients.run(group.address(), 100, 256 * 1024, 8 * 1024, 11, 50_000);
        assertEquals(100L * 256 * 1024, verified);
        EventLoop loop = group.loops().get(0);
        assertTrue(loop.stats().completionOverflows() > 0, "the completion queue overflowed");
        await("all connections to close", () -> echo.closedTotal() == 100);
        assertEquals(0, (int) onLoop(loop, loop::buffersInUse));
    }

    @Test
    @Timeout(30)
    void shouldReportNoDescriptorForDirectSockets() throws Exception {
        java.util.concurrent.CompletableFuture<Integer> fd = new java.util.concurrent.CompletableFuture<>();
        group = EventLoopGroup.builder().transport(Transport.IO_URING)
                .options(LoopOptions.builder().directDescriptors(true).build())
                .handler(new ConnectionHandler() {
                    @Override
                    public void onData(Connection c, MemorySegment data) {
                        fd.complete(c.fd());
                        c.write(data);
                    }
                }).start();
        try (Socket s = connect(group)) {
            s.getOutputStream().write('d');
            assertEquals('d', s.getInputStream().read());
            assertEquals(-1, (int) fd.get(), "a fixed file slot is not a process descriptor");
        }
    }

    /**
     * Direct sockets have no descriptor for setsockopt, so the transport sets the options on
     * the listener; this holds the kernel to the inheritance that relies on.
     */
    @Test
    @Timeout(30)
    void shouldGiveAcceptedSocketsTheListenersSocketOptions() throws Exception {
        int listener = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int accepted = -1;
        try (Arena arena = Arena.ofConfined()) {
            Sockets.setInt(listener, IPPROTO_TCP, TCP_NODELAY, 1);
            Sockets.setInt(listener, SOL_SOCKET, SO_RCVBUF, 96 * 1024);
            MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            var loopback = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0);
            Sockets.bind(listener, addr, SocketAddresses.write(loopback, addr));
            Sockets.listen(listener, 4);
            Sockets.localAddress(listener, addr);
            try (Socket client = new Socket()) {
                client.connect(SocketAddresses.read(addr), 5000);
                accepted = Sockets.acceptBlocking(listener, SOCK_CLOEXEC);
                assertEquals(1, Sockets.getInt(accepted, IPPROTO_TCP, TCP_NODELAY), "TCP_NODELAY inherited");
                assertEquals(Sockets.getInt(listener, SOL_SOCKET, SO_RCVBUF), Sockets.getInt(accepted, SOL_SOCKET, SO_RCVBUF),
                        "SO_RCVBUF inherited");
            }
        } finally {
            if (accepted >= 0) {
                Files.close(accepted);
            }
            Files.close(listener);
        }
    }
}
