package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_F_BUFFER;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_RECVSEND_BUNDLE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_RECVSEND_BUNDLE;
import static dev.keel.ffm.gen.LinuxConstants.IOU_PBUF_RING_INC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_PROVIDE_BUFFERS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_RECV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_DEFER_TASKRUN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SINGLE_ISSUER;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RECV/SEND and provided buffer rings on a connected AF_UNIX socket pair. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoUringSocketTest {
    private static final int BUF = 64;

    private int[] pair;
    private Arena arena;

    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @BeforeEach
    void connect() {
        pair = TestNative.socketPair();
        arena = Arena.ofConfined();
    }

    @AfterEach
    void closeAll() {
        arena.close();
        Files.close(pair[0]);
        Files.close(pair[1]);
    }

    private void peerWrites(String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        MemorySegment s = arena.allocate(b.length);
        MemorySegment.copy(b, 0, s, JAVA_BYTE, 0, b.length);
        assertEquals(b.length, TestNative.write(pair[1], s));
    }

    private static String text(MemorySegment s, long offset, int len) {
        return new String(s.asSlice(offset, len).toArray(JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    @Test
    void shouldCompleteARecvOnlyAfterThePeerWrites() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            MemorySegment buf = arena.allocate(BUF);
            ring.prep().recv(Rings.sqe(ring), pair[0], buf.address(), BUF, 0, 11L);
            assertEquals(1, ring.submit());
            assertEquals(-Errno.ETIME, ring.submitAndWait(1, TimeUnit.MILLISECONDS.toNanos(20)));
            assertEquals(0, ring.cqReady(), "no data yet: the recv is still pending");

            peerWrites("hello ring");
            assertEquals(List.of(new Rings.Cqe(11L, 10, 0)), Rings.await(ring, 1));
            assertEquals("hello ring", text(buf, 0, 10));
        }
    }

    @Test
    void shouldPostDeferredCompletionsOnlyWhenTheOwnerEntersWithGetevents() {
        try (IoUringRing ring = IoUringRing.open(4, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN)) {
            MemorySegment buf = arena.allocate(BUF);
            ring.prep().recv(Rings.sqe(ring), pair[0], buf.address(), BUF, 0, 13L);
            assertEquals(1, ring.submit());
            peerWrites("later");
            assertEquals(0, ring.cqReady(), "DEFER_TASKRUN: the completion waits for this thread to enter");
            assertEquals(0, ring.flushCompletions());
            assertEquals(1, ring.cqReady());
            ring.forEachCompletion((ud, res, flags) -> {
                assertEquals(13L, ud);
                assertEquals(5, res);
            });
            assertEquals("later", text(buf, 0, 5));
        }
    }

    @Test
    void shouldSendToThePeer() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            byte[] b = "through the ring".getBytes(StandardCharsets.US_ASCII);
            MemorySegment out = arena.allocate(b.length);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 0, b.length);
            ring.prep().send(Rings.sqe(ring), pair[0], out.address(), b.length, 0, 12L);
            assertEquals(List.of(new Rings.Cqe(12L, b.length, 0)), Rings.await(ring, 1));
            MemorySegment in = arena.allocate(BUF);
            assertEquals(b.length, TestNative.read(pair[1], in));
            assertEquals("through the ring", text(in, 0, b.length));
        }
    }

    @Test
    void shouldRecvIntoABufferThatTheKernelPicksFromAProvidedRing() {
        try (IoUringRing ring = IoUringRing.open(8, 0);
             ProvidedBufferRing pbuf = ProvidedBufferRing.register(ring, 4, 7)) {
            MemorySegment pool = arena.allocate(4L * BUF);
            // Only ids 40 and 41 are offered, in that order.
            pbuf.add(pool.address() + 2 * BUF, BUF, 40, 0);
            pbuf.add(pool.address() + 3 * BUF, BUF, 41, 1);
            pbuf.advance(2);

            ring.prep().recvSelect(Rings.sqe(ring), pair[0], pbuf.bgid(), 0, 0, 21L);
            peerWrites("abc");
            Rings.Cqe first = Rings.await(ring, 1).get(0);
            assertEquals(21L, first.userData());
            assertEquals(3, first.res());
            assertTrue(IoUring.hasBuffer(first.flags()));
            assertEquals(40, IoUring.bufferId(first.flags()), "the first offered buffer");
            assertEquals("abc", text(pool, 2 * BUF, 3));

            ring.prep().recvSelect(Rings.sqe(ring), pair[0], pbuf.bgid(), 0, 0, 22L);
            peerWrites("defg");
            Rings.Cqe second = Rings.await(ring, 1).get(0);
            assertEquals(41, IoUring.bufferId(second.flags()));
            assertEquals("defg", text(pool, 3 * BUF, 4));

            ring.prep().recvSelect(Rings.sqe(ring), pair[0], pbuf.bgid(), 0, 0, 23L);
            peerWrites("x");
            Rings.Cqe empty = Rings.await(ring, 1).get(0);
            assertEquals(-Errno.ENOBUFS, empty.res(), "every offered buffer is taken");

            pbuf.taken(40);
            pbuf.taken(41);
            pbuf.provide(pool.address() + 2 * BUF, BUF, 40);
            ring.prep().recvSelect(Rings.sqe(ring), pair[0], pbuf.bgid(), 0, 0, 24L);
            Rings.Cqe again = Rings.await(ring, 1).get(0);
            assertEquals(1, again.res());
            assertEquals(40, IoUring.bufferId(again.flags()), "a returned buffer is picked again");
            assertEquals("x", text(pool, 2 * BUF, 1));
        }
    }

    @Test
    void shouldKeepAMultishotRecvArmedAcrossArrivals() {
        try (IoUringRing ring = IoUringRing.open(8, 0);
             ProvidedBufferRing pbuf = ProvidedBufferRing.register(ring, 8, 3)) {
            MemorySegment pool = arena.allocate(8L * BUF);
            for (int bid = 0; bid < 8; bid++) {
                pbuf.add(pool.address() + bid * BUF, BUF, bid, bid);
            }
            pbuf.advance(8);
            ring.prep().recvMultishot(Rings.sqe(ring), pair[0], pbuf.bgid(), 0, 31L);
            assertEquals(1, ring.submit());
            for (String msg : new String[] {"one", "two", "three"}) {
                peerWrites(msg);
                Rings.Cqe c = Rings.await(ring, 1).get(0);
                assertEquals(31L, c.userData());
                assertEquals(msg.length(), c.res());
                assertTrue(IoUring.hasMore(c.flags()), "still armed");
                assertEquals(msg, text(pool, (long) IoUring.bufferId(c.flags()) * BUF, c.res()));
            }
            ring.prep().asyncCancel(Rings.sqe(ring), 31L, 0, 32L);
            List<Rings.Cqe> done = Rings.await(ring, 2);
            Rings.Cqe last = done.stream().filter(c -> c.userData() == 31L).findFirst().orElseThrow();
            assertFalse(IoUring.hasMore(last.flags()), "cancelled: no more completions");
            assertEquals(0, last.flags() & IORING_CQE_F_BUFFER, "a cancelled recv holds no buffer");
        }
    }

    @Test
    void shouldRecvIntoLegacyProvidedBuffers() {
        IoUringProbe probe = IoUringProbe.ofKernel();
        assertTrue(probe.isSupported(IORING_OP_PROVIDE_BUFFERS) && probe.isSupported(IORING_OP_RECV));
        try (IoUringRing ring = IoUringRing.open(8, 0)) {
            MemorySegment pool = arena.allocate(2L * BUF);
            ring.prep().provideBuffers(Rings.sqe(ring), pool.address(), BUF, 2, 9, 100, 41L);
            assertEquals(List.of(new Rings.Cqe(41L, 0, 0)), Rings.await(ring, 1));
            ring.prep().recvSelect(Rings.sqe(ring), pair[0], 9, BUF, 0, 42L);
            peerWrites("legacy");
            Rings.Cqe c = Rings.await(ring, 1).get(0);
            assertEquals(6, c.res());
            int bid = IoUring.bufferId(c.flags());
            assertTrue(bid == 100 || bid == 101, "bid " + bid);
            assertEquals("legacy", text(pool, (long) (bid - 100) * BUF, 6));
            ring.prep().removeBuffers(Rings.sqe(ring), 2, 9, 43L);
            assertEquals(List.of(new Rings.Cqe(43L, 1, 0)), Rings.await(ring, 1), "one buffer was left");
        }
    }

    @Test
    void shouldFillOneBufferPieceByPieceFromAnIncrementalRing() {
        IoUringRing ring = IoUringRing.open(8, 0);
        ProvidedBufferRing pbuf;
        try {
            pbuf = ProvidedBufferRing.register(ring, 4, 8, IOU_PBUF_RING_INC);
        } catch (SyscallException e) {
            ring.close();
            Assumptions.assumeTrue(e.errno() != Errno.EINVAL, "this kernel lacks IOU_PBUF_RING_INC (Linux 6.12)");
            throw e;
        }
        try (ring; pbuf) {
            MemorySegment pool = arena.allocate(BUF);
            pbuf.provide(pool.address(), BUF, 50);
            String[] parts = {"abc", "defg", "h".repeat(BUF - 7)};
            int offset = 0;
            for (int i = 0; i < parts.length; i++) {
                ring.prep().recvSelect(Rings.sqe(ring), pair[0], pbuf.bgid(), 0, 0, 60L + i);
                peerWrites(parts[i]);
                Rings.Cqe c = Rings.await(ring, 1).get(0);
                assertEquals(parts[i].length(), c.res());
                assertEquals(50, IoUring.bufferId(c.flags()), "the one buffer, again");
                assertEquals(parts[i], text(pool, offset, parts[i].length()), "right after the bytes before");
                offset += parts[i].length();
                assertEquals(offset < BUF, IoUring.bufferMore(c.flags()), "kept by the kernel until full");
            }
            pbuf.taken(50); // handed back with the completion that filled it
        }
    }

    @Test
    void shouldTakeSeveralBuffersInOneBundleRecv() {
        try (IoUringRing ring = IoUringRing.open(8, 0);
             ProvidedBufferRing pbuf = ProvidedBufferRing.register(ring, 4, 9)) {
            Assumptions.assumeTrue(ring.hasFeature(IORING_FEAT_RECVSEND_BUNDLE),
                    "this kernel lacks IORING_FEAT_RECVSEND_BUNDLE (Linux 6.10)");
            MemorySegment pool = arena.allocate(3L * BUF);
            int first = pbuf.tail();
            for (int i = 0; i < 3; i++) {
                pbuf.provide(pool.address() + (long) i * BUF, BUF, 70 + i);
            }
            String sent = "b".repeat(BUF) + "c".repeat(BUF / 2);
            peerWrites(sent);
            int s = Rings.sqe(ring);
            ring.prep().recvSelect(s, pair[0], pbuf.bgid(), 0, 0, 80L);
            ring.prep().addIoprio(s, IORING_RECVSEND_BUNDLE);
            Rings.Cqe c = Rings.await(ring, 1).get(0);
            assertEquals(sent.length(), c.res(), "one completion for bytes of two buffers");
            assertEquals(70, IoUring.bufferId(c.flags()), "named by the first");
            assertEquals(70, pbuf.bidAt(first));
            assertEquals(71, pbuf.bidAt(first + 1), "the next one in the ring took the rest");
            assertEquals(sent, text(pool, 0, sent.length()));
            pbuf.taken(70);
            pbuf.taken(71);
            assertEquals(1, pbuf.lent(), "the third buffer is still the kernel's");
        }
    }
}
