package dev.keel.io;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.keel.io.DatagramEndpointTest.client;
import static dev.keel.io.DatagramEndpointTest.group;
import static dev.keel.io.DatagramEndpointTest.settled;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's software timestamps (SO_TIMESTAMPING) on datagram endpoints, both transports,
 * over loopback: receive stamps on every datagram, in arrival order; transmit stamps read
 * from the error queue, numbered in the order sent, each no later than the peer's receive
 * stamp of the same datagram (the kernel stamps the transmit first). Order and presence
 * only: no assertion on how long anything took.
 */
class DatagramTimestampTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** First byte of a probe: sent until the receiver's datagrams carry stamps. */
    private static final byte PROBE = 1;
    /** First byte of a datagram under test; then its sequence number (4 bytes). */
    private static final byte DATA = 2;

    /**
     * The first socket to ask turns receive timestamps on for the whole system through deferred
     * work (net_enable_timestamp); a datagram that arrives before it ran has none. Probes from
     * {@code c} to {@code to} until the receiver completes {@code stamping} (at most 1,000).
     */
    private static void awaitReceiveStamps(DatagramSocket c, InetSocketAddress to, CompletableFuture<Void> stamping)
            throws Exception {
        byte[] probe = {PROBE};
        for (int k = 0; k < 1_000 && !stamping.isDone(); k++) {
            c.send(new DatagramPacket(probe, 1, to));
            Thread.sleep(10);
        }
        stamping.get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldStampEveryDatagramWithTheKernelsReceiveTimeInOrder(Transport transport) throws Exception {
        int n = 200;
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client()) {
            long[] stamps = new long[n];
            long[] handled = new long[n];
            AtomicInteger got = new AtomicInteger();
            CompletableFuture<Void> all = new CompletableFuture<>();
            CompletableFuture<Void> stamping = new CompletableFuture<>();
            long before = Instant.now().toEpochMilli() * 1_000_000L;
            DatagramEndpoint e = g.loops().get(0).openDatagramAsync(new InetSocketAddress(LOOPBACK, 0),
                    DatagramOptions.builder().receiveTimestamps(true).build(), (x, d) -> {
                        if (d.payload().get(JAVA_BYTE, 0) == PROBE) {
                            if (d.receivedAtNanos() != 0) {
                                stamping.complete(null);
                            }
                            return;
                        }
                        int i = got.getAndIncrement();
                        stamps[i] = d.receivedAtNanos();
                        Instant now = Instant.now();
                        handled[i] = now.getEpochSecond() * 1_000_000_000L + now.getNano();
                        if (i == n - 1) {
                            all.complete(null);
                        }
                    }).get(10, TimeUnit.SECONDS);
            InetSocketAddress to = new InetSocketAddress(LOOPBACK, e.localPort());
            awaitReceiveStamps(c, to, stamping);
            byte[] msg = new byte[32];
            for (int i = 0; i < n; i++) {
                c.send(new DatagramPacket(msg, msg.length, to));
            }
            all.get(20, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                assertTrue(stamps[i] >= before, "datagram " + i + " stamped after the test began: " + stamps[i]);
                assertTrue(stamps[i] <= handled[i], "datagram " + i + " stamped before its handler ran");
                if (i > 0) {
                    assertTrue(stamps[i] >= stamps[i - 1], "stamps in arrival order at " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldHandEachSentDatagramItsTransmitStampInOrderNoLaterThanThePeersReceiveStamp(Transport transport)
            throws Exception {
        int n = 64;
        try (EventLoopGroup g = group(transport, 1); DatagramSocket c = client(); Arena arena = Arena.ofShared()) {
            EventLoop loop = g.loops().get(0);
            long[] received = new long[n];
            int[] ids = new int[n];
            long[] sent = new long[n];
            AtomicInteger receivedCount = new AtomicInteger();
            AtomicInteger sentCount = new AtomicInteger();
            AtomicInteger errors = new AtomicInteger();
            CompletableFuture<Void> stamping = new CompletableFuture<>();
            CompletableFuture<Void> allReceived = new CompletableFuture<>();
            CompletableFuture<Void> allStamped = new CompletableFuture<>();
            DatagramEndpoint receiver = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0),
                    DatagramOptions.builder().receiveTimestamps(true).build(), (x, d) -> {
                        if (d.payload().get(JAVA_BYTE, 0) == PROBE) {
                            if (d.receivedAtNanos() != 0) {
                                stamping.complete(null);
                            }
                            return;
                        }
                        received[d.payload().get(JAVA_INT_UNALIGNED, 1)] = d.receivedAtNanos();
                        if (receivedCount.incrementAndGet() == n) {
                            allReceived.complete(null);
                        }
                    }).get(10, TimeUnit.SECONDS);
            DatagramHandler stamps = new DatagramHandler() {
                @Override
                public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                }

                @Override
                public void onSendTimestamp(DatagramEndpoint endpoint, int sendId, long sentAtNanos) {
                    int i = sentCount.getAndIncrement();
                    if (i < n) {
                        ids[i] = sendId;
                        sent[i] = sentAtNanos;
                    }
                    if (i == n - 1) {
                        allStamped.complete(null);
                    }
                }

                @Override
                public void onError(DatagramEndpoint endpoint, int errno) {
                    errors.incrementAndGet();
                }
            };
            DatagramEndpoint sender;
            try {
                sender = loop.openDatagramAsync(new InetSocketAddress(LOOPBACK, 0),
                        DatagramOptions.builder().transmitTimestamps(true).build(), stamps).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException refused) {
                Assumptions.abort("the kernel refuses SO_TIMESTAMPING transmit timestamps: " + refused.getCause());
                return;
            }
            InetSocketAddress to = new InetSocketAddress(LOOPBACK, receiver.localPort());
            awaitReceiveStamps(c, to, stamping);
            MemorySegment data = arena.allocate(5L * n);
            for (int i = 0; i < n; i++) {
                data.set(JAVA_BYTE, 5L * i, DATA);
                data.set(JAVA_INT_UNALIGNED, 5L * i + 1, i);
            }
            loop.execute(() -> {
                for (int i = 0; i < n; i++) {
                    sender.sendTo(to, data, 5L * i, 5);
                }
            });
            allReceived.get(20, TimeUnit.SECONDS);
            allStamped.get(20, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                assertEquals(i, ids[i], "transmit stamps come in the order sent, numbered from 0");
                assertTrue(sent[i] > 0, "datagram " + i + " has a transmit stamp");
                assertTrue(received[i] > 0, "datagram " + i + " has a receive stamp");
                assertTrue(sent[i] <= received[i], "datagram " + i + " stamped on transmit (" + sent[i]
                        + ") no later than on receive (" + received[i] + ")");
                if (i > 0) {
                    assertTrue(sent[i] >= sent[i - 1], "transmit stamps in sending order at " + i);
                }
            }
            DatagramStats d = settled(loop);
            assertEquals(n, sentCount.get(), "one transmit stamp per datagram, no more");
            assertEquals(n, d.sendTimestamps(), "and counted");
            assertEquals(0, errors.get(), "transmit stamps are not errors");
        }
    }

    /**
     * Rule 3 for transmit stamps: an echo whose every reply is stamped, read from the error
     * queue (epoll: recvmmsg on EPOLLERR; io_uring: the multishot error-queue read) and handed
     * to the handler, allocates nothing on the loop thread over 100,000 datagrams.
     */
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(600)
    void shouldAllocateNothingPerTransmitStamp(Transport transport) throws Exception {
        long[] stamps = new long[1]; // written on the loop thread only
        DatagramHandler echo = new DatagramHandler() {
            @Override
            public void onDatagram(DatagramEndpoint endpoint, Datagram datagram) {
                DatagramEndpointTest.ECHO.onDatagram(endpoint, datagram);
            }

            @Override
            public void onSendTimestamp(DatagramEndpoint endpoint, int sendId, long sentAtNanos) {
                stamps[0]++;
            }
        };
        DatagramOptions stamped = DatagramOptions.builder().transmitTimestamps(true).build();
        // Whether the kernel takes the option, asked on a group of its own before the measured one.
        try (EventLoopGroup p = group(transport, 1)) {
            p.loops().get(0).openDatagramAsync(new InetSocketAddress(LOOPBACK, 0), stamped, echo)
                    .get(10, TimeUnit.SECONDS);
        } catch (ExecutionException refused) {
            Assumptions.abort("the kernel refuses SO_TIMESTAMPING transmit timestamps: " + refused.getCause());
            return;
        }
        try (EventLoopGroup g = group(transport, 1)) {
            EventLoop loop = g.loops().get(0);
            DatagramStats d = DatagramEndpointTest.echoAllocatingNothing(g, stamped, echo);
            // The last echoes' stamps may still be queued: each pass of the loop reads what is there.
            for (int pass = 0; pass < 1_000 && d.sendTimestamps() < d.out(); pass++) {
                d = settled(loop);
            }
            assertEquals(d.out(), d.sendTimestamps(), "every echo stamped and the stamp handed over");
            long[] seen = new long[1];
            CompletableFuture<Void> read = new CompletableFuture<>();
            loop.execute(() -> {
                seen[0] = stamps[0];
                read.complete(null);
            });
            read.get(10, TimeUnit.SECONDS);
            assertEquals(d.sendTimestamps(), seen[0], "to the handler");
        }
    }
}
