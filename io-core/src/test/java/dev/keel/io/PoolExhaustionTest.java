package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import dev.keel.io.testing.ResourceSnapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A buffer pool far too small for its connections: clients that send without reading fill
 * their queues up to the high water mark (reading pauses: back-pressure), and when the pool
 * has no buffer left for one of them that connection alone is closed
 * ({@link CloseReason#POOL_EXHAUSTED}); the loop does not fail, clients that read their
 * answers (whose echoes the socket takes at once, without queueing) are served meanwhile, and
 * every buffer, connection and descriptor comes back. A client that needs a buffer of its own
 * while the pool is empty is closed too: the pool is shared, and nothing reserves a part of it.
 */
class PoolExhaustionTest {
    @Test
    @Timeout(60)
    void shouldCloseOnlyTheConnectionsThatFindThePoolEmptyAndKeepServingTheOthers() throws Exception {
        AtomicInteger exhausted = new AtomicInteger();
        LoopOptions options = LoopOptions.builder()
                .buffers(new int[] {2048, 16 * 1024}, new int[] {16, 4}) // 96 KiB for everyone
                .waterMarks(8 * 1024, 32 * 1024)
                .readBufferBytes(8 * 1024) // a connection queues at most 32 + 8 KiB before it stops reading
                .socketBuffers(0, 16 * 1024)
                .build();
        ConnectionHandler echo = new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                c.write(data);
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                if (reason == CloseReason.POOL_EXHAUSTED) {
                    exhausted.incrementAndGet();
                }
            }
        };
        try (EventLoopGroup group = EventLoopGroup.builder().options(options).unpinned().handler(echo).start()) {
            InetSocketAddress server = group.address();
            EchoClients.run(server, 2, 10_000, 1000, 1, 10_000);
            Thread.sleep(200);
            ResourceSnapshot before = ResourceSnapshot.ofSelf(group);

            List<SocketChannel> hostile = new ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) {
                    SocketChannel ch = SocketChannel.open(server);
                    ch.setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024);
                    ch.configureBlocking(false);
                    hostile.add(ch);
                }
                ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < end && exhausted.get() == 0) {
                    for (SocketChannel ch : hostile) {
                        if (ch.isOpen()) {
                            chunk.clear();
                            try {
                                ch.write(chunk); // never read: the echoes pile up on the server
                            } catch (java.io.IOException e) {
                                ch.close(); // closed by the server
                            }
                        }
                    }
                    Thread.sleep(10);
                }
                assertTrue(exhausted.get() > 0, "some connection found the pool empty");
                // Clients that read their answers are served while the hostile ones still hold the pool.
                for (int i = 0; i < 4; i++) {
                    pingPong(server, 200);
                }
                LoopStats stats = group.loops().get(0).stats();
                assertEquals(0, stats.loopFailures(), "the loop did not fail");
                assertEquals(0, stats.handlerFailures(), "nor did the handler");
            } finally {
                for (SocketChannel ch : hostile) {
                    ch.close();
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            List<String> grown = ResourceSnapshot.ofSelf(group).growthSince(before, 4L << 20);
            while (!grown.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
                grown = ResourceSnapshot.ofSelf(group).growthSince(before, 4L << 20);
            }
            assertEquals(List.of(), grown, "every buffer, connection and descriptor back");
            assertEquals(0, ResourceSnapshot.ofSelf(group).loops().get(0).bufferBytes(), "the pool is whole again");
            // Two busy clients at once fit in the pool (2 x 40 KiB < 96 KiB).
            assertEquals(2 * 200_000L, EchoClients.run(server, 2, 200_000, 4096, 2, 20_000), "and serves in full again");
        }
    }

    /** {@code rounds} request-answer exchanges of 1 KiB, each answer read whole before the next. */
    private static void pingPong(InetSocketAddress server, int rounds) throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(server, 5000);
            s.setSoTimeout(5000);
            byte[] ping = new byte[1024];
            for (int r = 0; r < rounds; r++) {
                java.util.Arrays.fill(ping, (byte) r);
                s.getOutputStream().write(ping);
                assertTrue(java.util.Arrays.equals(ping, s.getInputStream().readNBytes(ping.length)), "echo " + r);
            }
        }
    }
}
