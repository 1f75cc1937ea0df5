package dev.keel.io;

import dev.keel.ffm.gen.Errno;
import dev.keel.io.testing.LoopAllocations;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * UDP endpoints on both transports, over real sockets on loopback: echo with every byte
 * checked and batches counted, SO_REUSEPORT sharding, IPv6, truncation, ICMP port-unreachable
 * on a connected endpoint, a full send queue, and no allocation per datagram.
 */
class DatagramEndpointTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int RECEIVE_TIMEOUT_MILLIS = 20_000;
    /** Datagrams in flight in the zero-allocation test. */
    private static final int ZERO_ALLOCATION_WINDOW = 16;

    /** Echoes every datagram back to its sender. */
    static final DatagramHandler ECHO = (endpoint, d) -> endpoint.reply(d, d.payload(), 0, d.length());

    static EventLoopGroup group(Transport transport, int loops) {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        return EventLoopGroup.builder().unpinned().noReservations().loops(loops).transport(transport)
                .withoutListener().start();
    }

    static DatagramSocket client() throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
        s.setReceiveBufferSize(4 << 20);
        s.setSoTimeout(RECEIVE_TIMEOUT_MILLIS);
        return s;
    }

    /**
     * The loop's datagram counters once it has counted every send the client already heard.
     * io_uring counts a send when the loop reaps its completion, which the kernel posts inside
     * the io_uring_enter that issued it; the client can receive the datagram before the loop
     * has returned from that call and reaped, so a counter read at once may still lack the last
     * sends (a full run once read 190,015 sent of 190,016 received and echoed). A task queued
     * now runs in the task phase of the loop's next pass, which begins after that reap: one
     * round trip through the loop settles the counters, with no waiting on the clock. On epoll
     * the count follows sendmmsg at once; the round trip costs nothing there.
     */
    static DatagramStats settled(EventLoop loop) throws Exception {
        CompletableFuture<Void> pass = new CompletableFuture<>();
        loop.execute(() -> pass.complete(null));
        pass.get(RECEIVE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        return loop.stats().datagrams();
    }

    /**
     * The client's receive, failing with the loop's counters when an echo never comes: with a
     * bounded window in flight the kernel has room for all of it (see the tests), so a missing
     * echo is the endpoint's fault, never a dropped datagram to forgive.
     */
    private static void receive(DatagramSocket c, DatagramPacket p, EventLoop loop, long expected) throws Exception {
        try {
            c.receive(p);
        } catch (java.net.SocketTimeoutException lost) {
            DatagramStats d = loop.stats().datagrams();
            throw new AssertionError("echo " + expected + " never came back: the loop has in " + d.in() + ", out "
                    + d.out() + ", dropped " + d.dropped() + ", errors " + d.errors(), lost);
        }
    }

    private static void fill(byte[] b, int n, int seq) {
        for (int j = 0; j < n; j++) {
            b[j] = (byte) (seq * 31 + j * 7);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(180)
    void shouldEchoAHundredThousandDatagramsEveryByteCheckedInBatches(Transport transport) throws Exception {
        int total = 100_000;
        int window = 64;
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client()) {
            DatagramOptions o = DatagramOptions.builder().batchSize(32).socketBuffers(4 << 20, 4 << 20).build();
            DatagramEndpoint e = g.openDatagrams(new InetSocketAddress(LOOPBACK, 0), o, i -> ECHO).get(0);
            InetSocketAddress server = new InetSocketAddress(LOOPBACK, e.localPort());
            LoopStats stats = g.loops().get(0).stats();
            long syscalls0 = stats.syscalls();
            byte[] out = new byte[1200];
            byte[] expected = new byte[1200];
            byte[] in = new byte[2048];
            DatagramPacket rp = new DatagramPacket(in, in.length);
            // At most 64 datagrams of at most 1,200 bytes in flight: some 150 KiB of socket
            // memory, against 4 MiB receive buffers on both sides and the 1,000-packet backlog
            // of loopback: the kernel has no reason to drop one, so every one must come back.
            int sent = 0;
            int received = 0;
            while (received < total) {
                while (sent < total && sent - received < window) {
                    int n = 1 + (sent % 1200);
                    fill(out, n, sent);
                    c.send(new DatagramPacket(out, n, server));
                    sent++;
                }
                rp.setLength(in.length);
                receive(c, rp, g.loops().get(0), received);
                int n = 1 + (received % 1200);
                assertEquals(n, rp.getLength(), "length of datagram " + received);
                fill(expected, n, received);
                assertArrayEquals(java.util.Arrays.copyOf(expected, n), java.util.Arrays.copyOf(in, n),
                        "bytes of datagram " + received);
                received++;
            }
            DatagramStats d = settled(g.loops().get(0));
            assertEquals(total, d.in());
            assertEquals(total, d.out());
            assertEquals(0, d.dropped());
            double perCall = (double) (d.in() + d.out()) / (stats.syscalls() - syscalls0);
            assertTrue(perCall > 1, "datagrams per system call of the loop thread under load: " + perCall);
            assertTrue(d.perBatch() > 1, "the loop's statistic, datagrams per batch: " + d.perBatch());
            assertTrue(d.receiveBatches() < total && d.sendBatches() < total,
                    "fewer batches than datagrams each way: " + d.receiveBatches() + " / " + d.sendBatches());
            assertEquals(d.receiveBatches(), d.perReceiveBatch().count(), "one histogram value per batch");
            assertEquals(total, d.perReceiveBatch().sum(), "every datagram in a receive batch");
            assertTrue(d.perReceiveBatch().count() - d.perReceiveBatch().cumulative(0) > 0,
                    "receive batches of more than one datagram: " + d.perReceiveBatch());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(120)
    void shouldShardOnePortOverTheLoopsWithReusePort(Transport transport) throws Exception {
        try (EventLoopGroup g = group(transport, 2)) {
            List<DatagramEndpoint> es = g.openDatagrams(new InetSocketAddress(LOOPBACK, 0),
                    DatagramOptions.defaults(), i -> ECHO);
            assertEquals(2, es.size());
            assertEquals(es.get(0).localPort(), es.get(1).localPort(), "one port");
            InetSocketAddress server = new InetSocketAddress(LOOPBACK, es.get(0).localPort());
            byte[] buf = new byte[64];
            for (int k = 0; k < 64; k++) {
                try (DatagramSocket c = client()) {
                    byte[] msg = ("client " + k).getBytes();
                    c.send(new DatagramPacket(msg, msg.length, server));
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    c.receive(p);
                    assertEquals("client " + k, new String(buf, 0, p.getLength()));
                }
            }
            long in0 = g.loops().get(0).stats().datagrams().in();
            long in1 = g.loops().get(1).stats().datagrams().in();
            assertEquals(64, in0 + in1);
            assertTrue(in0 > 0 && in1 > 0,
                    "64 senders spread over both loops");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldEchoOverIpv6WithTheSendersAddress(Transport transport) throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        try (EventLoopGroup g = group(transport, 1);
             DatagramSocket c = new DatagramSocket(new InetSocketAddress(v6, 0))) {
            c.setSoTimeout(RECEIVE_TIMEOUT_MILLIS);
            CompletableFuture<InetSocketAddress> sender = new CompletableFuture<>();
            DatagramEndpoint e = g.loops().get(0).openDatagramAsync(new InetSocketAddress(v6, 0),
                    DatagramOptions.defaults(), (ep, d) -> {
                        sender.complete(d.senderAddress());
                        ep.reply(d, d.payload(), 0, d.length());
                    }).get(10, TimeUnit.SECONDS);
            byte[] msg = "over ::1".getBytes();
            c.send(new DatagramPacket(msg, msg.length, new InetSocketAddress(v6, e.localPort())));
            byte[] buf = new byte[64];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            c.receive(p);
            assertEquals("over ::1", new String(buf, 0, p.getLength()));
            assertEquals(c.getLocalSocketAddress(), sender.get(10, TimeUnit.SECONDS));
        }
    }

    /**
     * An endpoint (with transmit timestamps) closed and another opened in the same task: on
     * io_uring the first one's receive and POLLERR poll are prepared but not yet submitted when
     * it closes, naming its socket by number, and the second socket would get that number. The
     * first socket stays open until the kernel is done with the first endpoint; closed at once,
     * the second endpoint heard none of its datagrams here.
     */
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldServeAnEndpointOpenedInTheTaskThatClosedAnother(Transport transport) throws Exception {
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client()) {
            EventLoop loop = g.loops().get(0);
            CompletableFuture<DatagramEndpoint> second = new CompletableFuture<>();
            loop.execute(() -> {
                loop.openDatagram(new InetSocketAddress(LOOPBACK, 0),
                        DatagramOptions.builder().transmitTimestamps(true).build(), ECHO).close();
                second.complete(loop.openDatagram(new InetSocketAddress(LOOPBACK, 0), DatagramOptions.defaults(),
                        ECHO));
            });
            InetSocketAddress server = new InetSocketAddress(LOOPBACK, second.get(10, TimeUnit.SECONDS).localPort());
            byte[] buf = new byte[64];
            for (int k = 0; k < 10; k++) {
                byte[] msg = ("datagram " + k).getBytes();
                c.send(new DatagramPacket(msg, msg.length, server));
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                receive(c, p, loop, k);
                assertEquals("datagram " + k, new String(buf, 0, p.getLength()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldReportATruncatedDatagram(Transport transport) throws Exception {
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client()) {
            CompletableFuture<int[]> seen = new CompletableFuture<>();
            DatagramEndpoint e = g.loops().get(0).openDatagramAsync(new InetSocketAddress(LOOPBACK, 0),
                    DatagramOptions.builder().maxDatagramSize(100).build(), (ep, d) -> seen.complete(
                            new int[] {d.length(), d.truncated() ? 1 : 0, d.fullLength(), d.payload().get(
                                    java.lang.foreign.ValueLayout.JAVA_BYTE, 99)})).get(10, TimeUnit.SECONDS);
            byte[] msg = new byte[300];
            fill(msg, 300, 5);
            c.send(new DatagramPacket(msg, 300, new InetSocketAddress(LOOPBACK, e.localPort())));
            int[] r = seen.get(20, TimeUnit.SECONDS);
            assertEquals(100, r[0], "bytes delivered: the endpoint's largest datagram");
            assertEquals(1, r[1], "MSG_TRUNC reported");
            assertEquals(msg[99], (byte) r[3], "the bytes delivered are the datagram's first");
            assertEquals(300, r[2], "the size on the wire is reported");
            assertEquals(1, g.loops().get(0).stats().datagrams().truncated());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldTellAConnectedEndpointItsPeerRefused(Transport transport) throws Exception {
        int closedPort;
        try (DatagramSocket gone = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            closedPort = gone.getLocalPort();
        }
        try (EventLoopGroup g = group(transport, 1); Arena arena = Arena.ofShared()) {
            MemorySegment hello = arena.allocate(5);
            CompletableFuture<Integer> error = new CompletableFuture<>();
            EventLoop loop = g.loops().get(0);
            DatagramEndpoint e = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0),
                    DatagramOptions.builder().connectTo(new InetSocketAddress(LOOPBACK, closedPort)).build(),
                    new DatagramHandler() {
                        @Override
                        public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                        }

                        @Override
                        public void onError(DatagramEndpoint endpoint, int errno) {
                            error.complete(errno);
                        }
                    }).get(10, TimeUnit.SECONDS);
            loop.execute(() -> e.send(hello, 0, 5));
            int errno = error.get(20, TimeUnit.SECONDS);
            assertEquals(Errno.ECONNREFUSED, errno);
            assertTrue(loop.stats().datagrams().errors() >= 1);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldCountAndReportDatagramsAFullSendQueueDrops(Transport transport) throws Exception {
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client(); Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(4096);
            AtomicInteger reported = new AtomicInteger();
            AtomicInteger tooLarge = new AtomicInteger();
            EventLoop loop = g.loops().get(0);
            DatagramEndpoint e = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0),
                    DatagramOptions.builder().sendQueue(8).build(), new DatagramHandler() {
                        @Override
                        public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                        }

                        @Override
                        public void onSendDropped(DatagramEndpoint endpoint, int count, int errno) {
                            if (errno == Errno.EMSGSIZE) {
                                tooLarge.addAndGet(count);
                            } else {
                                reported.addAndGet(count);
                            }
                        }
                    }).get(10, TimeUnit.SECONDS);
            InetSocketAddress to = (InetSocketAddress) c.getLocalSocketAddress();
            CompletableFuture<Integer> accepted = new CompletableFuture<>();
            loop.execute(() -> {
                int ok = 0;
                for (int i = 0; i < 20; i++) {
                    ok += e.sendTo(to, data, 0, 16) ? 1 : 0;
                }
                boolean oversize = e.sendTo(to, data, 0, 4096); // above the 2048-byte slots
                accepted.complete(oversize ? -1 : ok);
            });
            int ok = accepted.get(10, TimeUnit.SECONDS);
            byte[] buf = new byte[64];
            for (int i = 0; i < ok; i++) {
                c.receive(new DatagramPacket(buf, buf.length));
            }
            if (transport == Transport.IO_URING) {
                // the slots stay the kernel's until the next pass's completions: the rest is dropped
                assertTrue(ok >= 8 && ok < 20, "accepted " + ok + " of 20 into an 8-datagram queue");
            } else {
                // epoll sends a full ring at once (one sendmmsg) and takes more
                assertEquals(20, ok, "a full ring is sent at once");
            }
            assertEquals(1, tooLarge.get(), "the oversize datagram refused with EMSGSIZE");
            assertEquals(20 - ok, reported.get(), "every drop reported to the handler");
            assertEquals(20 - ok + 1, loop.stats().datagrams().dropped(), "and counted");
        }
    }

    /**
     * Rule 3 for datagrams: 100,000 echoed datagrams, kept {@value #ZERO_ALLOCATION_WINDOW} in
     * flight so that receives and sends go in batches, allocate nothing on the loop thread. The
     * loop's system calls (epoll_wait, recvmmsg, sendmmsg; io_uring_enter) must allocate nothing
     * however the JIT compiles the pass, which is why they do not capture errno.
     */
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(600)
    void shouldAllocateNothingPerDatagram(Transport transport) throws Exception {
        try (EventLoopGroup g = group(transport, 1)) {
            DatagramStats d = echoAllocatingNothing(g, DatagramOptions.defaults(), ECHO);
            assertEquals(0, d.dropped(), "none dropped");
        }
    }

    /**
     * Echoes 100,000 datagrams (after the warm-up) through an endpoint of {@code g}'s first
     * loop opened with {@code options} and {@code handler}, {@value #ZERO_ALLOCATION_WINDOW} in
     * flight, each checked, and fails unless the loop thread allocated nothing; returns the
     * loop's settled counters, every datagram the client sent received and echoed.
     */
    static DatagramStats echoAllocatingNothing(EventLoopGroup g, DatagramOptions options, DatagramHandler handler)
            throws Exception {
        int window = ZERO_ALLOCATION_WINDOW;
        try (DatagramSocket c = client()) {
            DatagramEndpoint e = g.openDatagrams(new InetSocketAddress(LOOPBACK, 0), options, i -> handler).get(0);
            InetSocketAddress server = new InetSocketAddress(LOOPBACK, e.localPort());
            byte[] out = new byte[64];
            byte[] in = new byte[64];
            DatagramPacket sp = new DatagramPacket(out, out.length, server);
            DatagramPacket rp = new DatagramPacket(in, in.length);
            // 16 datagrams of 64 bytes in flight, a few KiB of socket memory against receive
            // buffers of 208 KiB (the endpoint) and 4 MiB (the client): none can be dropped.
            EventLoop loop = g.loops().get(0);
            int[] next = new int[2]; // sequence numbers: next to send, next to come back
            for (; next[0] < window; next[0]++) {
                out[0] = (byte) next[0];
                c.send(sp);
            }
            LoopAllocations.assertNoneAllocated(loop.thread(), 100_000, "echoed datagrams", i -> {
                out[0] = (byte) next[0]++;
                c.send(sp);
                rp.setLength(in.length);
                receive(c, rp, loop, next[1]);
                int expected = next[1]++;
                if (in[0] != (byte) expected || rp.getLength() != 64) {
                    throw new AssertionError("echo " + expected + " came back wrong: " + in[0]);
                }
            });
            for (; next[1] < next[0]; next[1]++) {
                rp.setLength(in.length);
                receive(c, rp, loop, next[1]);
            }
            DatagramStats d = settled(loop);
            assertEquals(next[0], d.in(), "every datagram the client sent received");
            assertEquals(next[0], d.out(), "and echoed");
            return d;
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldSendATrainOfSegmentsInOneDatagramSendWithGso(Transport transport) throws Exception {
        int segment = 1000;
        int count = 16;
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client(); Arena arena = Arena.ofShared()) {
            byte[] train = new byte[segment * count];
            for (int k = 0; k < count; k++) {
                byte[] part = new byte[segment];
                fill(part, segment, k);
                System.arraycopy(part, 0, train, k * segment, segment);
            }
            MemorySegment data = arena.allocate(train.length);
            MemorySegment.copy(train, 0, data, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, train.length);
            EventLoop loop = g.loops().get(0);
            DatagramEndpoint e;
            try {
                e = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0), DatagramOptions.builder()
                        .sendSegmentSize(segment).maxDatagramSize(train.length).build(), (x, d) -> { })
                        .get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException refused) {
                org.junit.jupiter.api.Assumptions.abort("the kernel refuses UDP_SEGMENT: " + refused.getCause());
                return;
            }
            InetSocketAddress to = (InetSocketAddress) c.getLocalSocketAddress();
            CompletableFuture<Boolean> queued = new CompletableFuture<>();
            loop.execute(() -> queued.complete(e.sendTo(to, data, 0, train.length)));
            assertTrue(queued.get(10, TimeUnit.SECONDS));
            byte[] in = new byte[2 * segment];
            byte[] expected = new byte[segment];
            for (int k = 0; k < count; k++) {
                DatagramPacket p = new DatagramPacket(in, in.length);
                c.receive(p);
                assertEquals(segment, p.getLength(), "segment " + k + " is one datagram of the segment size");
                fill(expected, segment, k);
                assertArrayEquals(expected, java.util.Arrays.copyOf(in, segment), "bytes of segment " + k);
            }
            assertEquals(1, settled(loop).out(), "the train left in one send");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldReceiveAGsoTrainWholeWithItsSegmentSizeWithGro(Transport transport) throws Exception {
        int segment = 1000;
        int count = 16;
        int total = segment * count;
        try (EventLoopGroup g = group(transport, 1); Arena arena = Arena.ofShared()) {
            MemorySegment data = arena.allocate(total);
            for (int j = 0; j < total; j++) {
                data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, j, (byte) (j * 13 + j / segment));
            }
            EventLoop loop = g.loops().get(0);
            CompletableFuture<int[]> seen = new CompletableFuture<>();
            DatagramEndpoint receiver;
            DatagramEndpoint sender;
            try {
                receiver = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0), DatagramOptions.builder()
                        .receiveGro(true).maxDatagramSize(65_507).build(), (x, d) -> {
                            boolean same = d.payload().asSlice(0, d.length()).mismatch(data) == -1;
                            seen.complete(new int[] {d.length(), d.segmentSize(), same ? 1 : 0});
                        }).get(10, TimeUnit.SECONDS);
                sender = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0), DatagramOptions.builder()
                        .sendSegmentSize(segment).maxDatagramSize(total).build(), (x, d) -> { })
                        .get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException refused) {
                org.junit.jupiter.api.Assumptions.abort("the kernel refuses UDP_GRO or UDP_SEGMENT: " + refused.getCause());
                return;
            }
            InetSocketAddress to = new InetSocketAddress(LOOPBACK, receiver.localPort());
            loop.execute(() -> sender.sendTo(to, data, 0, total));
            int[] r = seen.get(20, TimeUnit.SECONDS);
            assertEquals(total, r[0], "the train arrives whole");
            assertEquals(segment, r[1], "with its segment size");
            assertEquals(1, r[2], "every byte as sent");
        }
    }
}
