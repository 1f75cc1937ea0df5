package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.IoUringBuf;
import dev.keel.ffm.gen.LinuxLayouts.IoUringBufRing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.keel.ffm.gen.LinuxConstants.MAP_ANONYMOUS;
import static dev.keel.ffm.gen.LinuxConstants.MAP_POPULATE;
import static dev.keel.ffm.gen.LinuxConstants.MAP_PRIVATE;
import static dev.keel.ffm.gen.LinuxConstants.PROT_READ;
import static dev.keel.ffm.gen.LinuxConstants.PROT_WRITE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): a ring of buffer descriptors the
 * application fills and the kernel consumes, picking one buffer per receive submitted with
 * IOSQE_BUFFER_SELECT for group {@link #bgid()}. The completion names the buffer by the id
 * given here ({@link IoUring#bufferId}); from then it is the application's until it is
 * {@link #add added} and {@link #advance advanced} back.
 *
 * <pre>{@code
 * struct io_uring_buf { __u64 addr; __u32 len; __u16 bid; __u16 resv; };   // 16 bytes
 * struct io_uring_buf_ring {           // overlays bufs[0]
 *   union { struct { __u64 resv1; __u32 resv2; __u16 resv3; __u16 tail; };  // tail = bufs[0].resv
 *           struct io_uring_buf bufs[]; };
 * };
 * }</pre>
 * Writing a descriptor never touches {@code resv}, so filling slot 0 leaves the tail alone.
 *
 * <p>Ownership is checked, because the kernel cannot tell: a buffer id added while the kernel
 * still holds it (not yet {@link #taken}) would be filled twice, and more buffers lent than
 * the ring has descriptors would overwrite descriptors the kernel has not consumed yet. Both
 * are programming errors and throw IllegalStateException. The ids lent are kept in a bitmap
 * of the 16-bit id space (8 KiB).
 *
 * <p>Not thread-safe: the ring's loop thread adds buffers. Close it before its ring.
 */
public final class ProvidedBufferRing implements AutoCloseable {
    /*
     * The kernel reads the tail with smp_load_acquire and then the descriptors below it; the
     * release store of the tail makes the descriptors written before it visible first
     * (liburing io_uring_buf_ring_advance).
     */
    private static final VarHandle SHORT = JAVA_SHORT.varHandle();
    /** Buffer ids are 16 bits wide (the completion's flags carry them). */
    private static final int BUFFER_IDS = 1 << 16;

    private final IoUringRing ring;
    /** IOU_PBUF_RING_* flags the ring was registered with. */
    private final int flags;
    private final int bgid;
    private final int entries;
    private final int mask;
    private final long address;
    private final long size;
    private final Arena arena;
    private final MemorySegment bufs;
    /** Local tail: descriptors up to here are added; the kernel sees them after {@link #advance}. */
    private int tail;
    private boolean closed;
    /** Bit {@code bid} set while buffer {@code bid} is lent to the kernel. */
    private final long[] lent = new long[BUFFER_IDS / Long.SIZE];
    /** Buffers lent now: added and not yet {@link #taken}. */
    private int lentCount;

    private ProvidedBufferRing(IoUringRing ring, int bgid, int entries, long address, long size, int flags) {
        this.ring = ring;
        this.flags = flags;
        this.bgid = bgid;
        this.entries = entries;
        this.mask = entries - 1;
        this.address = address;
        this.size = size;
        this.arena = Arena.ofShared();
        this.bufs = MemorySegment.ofAddress(address).reinterpret(size, arena, null);
    }

    /**
     * Maps page-aligned memory for {@code entries} descriptors (a power of two, at most 32768)
     * and registers it with {@code ring} as buffer group {@code bgid}. The ring starts empty.
     */
    public static ProvidedBufferRing register(IoUringRing ring, int entries, int bgid) {
        return register(ring, entries, bgid, 0);
    }

    /**
     * {@link #register(IoUringRing, int, int)} with IOU_PBUF_RING_* {@code flags}. With
     * IOU_PBUF_RING_INC (6.12) a receive takes only the bytes it needs of the buffer at the
     * head, and the kernel moves that descriptor's address and length past them: the buffer
     * stays the kernel's, its completions flagged IORING_CQE_F_BUF_MORE ({@link IoUring#bufferMore}),
     * until one fills it to its end; only that completion hands it back ({@link #taken}). The
     * application must follow how far each buffer is filled. A kernel without the flag refuses
     * it (SyscallException, EINVAL).
     */
    public static ProvidedBufferRing register(IoUringRing ring, int entries, int bgid, int flags) {
        if (entries <= 0 || Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("provided buffer ring entries must be a power of two: " + entries);
        }
        long size = entries * IoUringBuf.SIZE;
        long address = Mman.mmap(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0).address();
        try {
            IoUringRegister.registerPbufRing(ring, address, entries, bgid, flags);
        } catch (RuntimeException | Error e) {
            Mman.munmap(MemorySegment.ofAddress(address).reinterpret(size));
            throw e;
        }
        return new ProvidedBufferRing(ring, bgid, entries, address, size, flags);
    }

    /**
     * Writes descriptor {@code tail + indexOffset}: buffer {@code bid} of {@code len} bytes at
     * {@code bufAddress}. Invisible to the kernel until {@link #advance}. From now until a
     * completion names it ({@link #taken}), the buffer is the kernel's.
     *
     * @throws IllegalStateException when buffer {@code bid} is lent already, or the ring's
     *         {@link #entries} buffers are
     */
    public void add(long bufAddress, int len, int bid, int indexOffset) {
        if (bid < 0 || bid >= BUFFER_IDS) {
            throw new IllegalArgumentException("buffer id out of the 16-bit range: " + bid);
        }
        if ((lent[bid >>> 6] & (1L << bid)) != 0) {
            throw new IllegalStateException("buffer " + bid + " is lent to the kernel already (group " + bgid
                    + "): it would be filled twice");
        }
        if (lentCount == entries) {
            throw new IllegalStateException("the ring holds " + entries + " buffers, all lent (group " + bgid
                    + "): buffer " + bid + " would overwrite one the kernel has not used yet");
        }
        lent[bid >>> 6] |= 1L << bid;
        lentCount++;
        long at = ((tail + indexOffset) & mask) * IoUringBuf.SIZE;
        bufs.set(JAVA_LONG, at + IoUringBuf.ADDR, bufAddress);
        bufs.set(JAVA_INT, at + IoUringBuf.LEN, len);
        bufs.set(JAVA_SHORT, at + IoUringBuf.BID, (short) bid);
    }

    /** Publishes the next {@code count} added descriptors to the kernel (tail, release). */
    public void advance(int count) {
        tail += count;
        // The kernel's tail is a __u16 that wraps; entries <= 32768 keeps the mask arithmetic exact.
        SHORT.setRelease(bufs, IoUringBufRing.TAIL, (short) tail);
    }

    /**
     * A completion named buffer {@code bid} (IORING_CQE_F_BUFFER): the kernel filled it and it is
     * the application's again, to be added anew once its bytes are used.
     *
     * @throws IllegalStateException when {@code bid} was not lent
     */
    public void taken(int bid) {
        if (bid < 0 || bid >= BUFFER_IDS || (lent[bid >>> 6] & (1L << bid)) == 0) {
            throw new IllegalStateException("buffer " + bid + " came back from the kernel but was not lent (group "
                    + bgid + ")");
        }
        lent[bid >>> 6] &= ~(1L << bid);
        lentCount--;
    }

    /**
     * The ring position the next {@link #add} (with index offset 0) writes: positions count up
     * from 0 and wrap with the kernel's 16-bit head. A bundle receive
     * (IORING_RECVSEND_BUNDLE) takes buffers at consecutive positions from the one of the buffer
     * its completion names, so remembering where each buffer was added finds the others.
     */
    public int tail() {
        return tail;
    }

    /** The id of the buffer last added at ring {@code position} (the kernel never writes ids). */
    public int bidAt(int position) {
        return Short.toUnsignedInt(bufs.get(JAVA_SHORT, (position & mask) * IoUringBuf.SIZE + IoUringBuf.BID));
    }

    /** Buffers lent to the kernel now. */
    public int lent() {
        return lentCount;
    }

    /** {@link #add} then {@link #advance}(1): gives one buffer back to the kernel. */
    public void provide(long bufAddress, int len, int bid) {
        add(bufAddress, len, bid, 0);
        advance(1);
    }

    /** IOU_PBUF_RING_* flags the ring was registered with. */
    public int flags() {
        return flags;
    }

    /** The buffer group id receives select with. */
    public int bgid() {
        return bgid;
    }

    /** Descriptor slots. */
    public int entries() {
        return entries;
    }

    /** Unregisters the group (if the ring is still open) and unmaps the descriptors. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (ring.isOpen()) {
                IoUringRegister.unregisterPbufRing(ring, bgid);
            }
        } finally {
            arena.close();
            Mman.munmap(MemorySegment.ofAddress(address).reinterpret(size));
        }
    }
}
