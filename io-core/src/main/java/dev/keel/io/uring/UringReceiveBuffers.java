package dev.keel.io.uring;

import dev.keel.io.LoopOptions;
import dev.keel.io.loop.BufferPool;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.ProvidedBufferRing;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.keel.ffm.gen.LinuxConstants.IOU_PBUF_RING_INC;

/**
 * The receive side of the io_uring transport's memory: a provided buffer ring whose buffers
 * are lent from one size class of the loop's {@link BufferPool} (the pool id is the buffer id
 * the kernel reports), and the receives a connection holds while its reading is paused.
 *
 * <p>Ownership, explicitly: a buffer is the kernel's from {@link #provide} until a completion
 * hands it back ({@link #take}); then the loop's, until it is provided again — at once after its
 * bytes were copied out, or when a paused connection resumes or closes. {@link #available}
 * counts the kernel's share; the ring refuses, with IllegalStateException, to lend a buffer
 * the kernel holds already or more buffers than it has descriptors for.
 *
 * <p>A completion may cover several buffers (a receive bundle: the ones lent at consecutive
 * ring positions from the buffer it names, found by the position each was lent at) and, on an
 * incrementally consumed ring, part of a buffer only: the kernel fills a buffer piece by piece
 * across completions, of any connection, and hands it back with the piece that reaches its
 * end. So a completion is split into pieces (buffer, offset, length, whether handed back).
 * Bytes of a piece are the loop's at once; the buffer is lent again only once handed back,
 * which is why a piece that shares its buffer is held, while its connection's reading is
 * paused, as a copy in a pool buffer of its own ({@link #holdCopy}), never in place.
 */
final class UringReceiveBuffers implements AutoCloseable {
    private static final int BGID = 0;
    /** The kernel's buffer ids are 16 bits wide. */
    private static final int MAX_BUFFER_ID = 0xFFFF;

    private final ProvidedBufferRing ring;
    private final BufferPool pool;
    private final MemorySegment region;
    private final MemorySegment readBuffer;
    private final int length;
    /** The pool size class the receive buffers come from. */
    private final int size;
    /** A view of each whole receive buffer, made once: full buffers reach the handler without a copy. */
    private final MemorySegment[] views;
    private int available;
    private final int[] heldHead;
    private final int[] heldTail;
    private final int[] heldLength;
    private int[] starved;
    private int starvedCount;
    /** The ring position each buffer was last lent at: a bundle's buffers follow its first one's. */
    private final int[] positionOf;
    /** Whether the ring is consumed incrementally (IOU_PBUF_RING_INC). */
    private final boolean incremental;
    /** Incremental ring: the bytes the kernel has written into each lent buffer so far. */
    private final int[] filled;
    /** Pool buffers holding a copy of received bytes for a paused connection: released, not lent, once read. */
    private final boolean[] copy;
    /**
     * The pieces of the completion being handled, in the order their bytes came: buffer, offset
     * and length of each, and whether the buffer is the loop's from then on (else the kernel
     * fills it further); {@link #pieces} of them.
     */
    private final int[] pieceId;
    private final int[] pieceOffset;
    private final int[] pieceLength;
    private final boolean[] pieceDone;
    private int pieces;

    /** The pool size class receives use: the smallest of at least the asked size, else the largest. */
    static int sizeClass(LoopOptions options) {
        int[] sizes = options.bufferSizes();
        for (int c = 0; c < sizes.length; c++) {
            if (sizes[c] >= options.providedBufferBytes()) {
                return c;
            }
        }
        return sizes.length - 1;
    }

    UringReceiveBuffers(IoUringRing uring, BufferPool pool, LoopOptions options, MemorySegment readBuffer,
            UringStats stats) {
        this.pool = pool;
        this.region = pool.region();
        this.readBuffer = readBuffer;
        this.size = options.bufferSizes()[sizeClass(options)];
        // Bytes are copied out into the read buffer before the handler sees them: never more than it holds.
        this.length = (int) Math.min(size, readBuffer.byteSize());
        this.heldHead = new int[options.maxConnections()];
        this.heldTail = new int[options.maxConnections()];
        Arrays.fill(heldHead, -1);
        Arrays.fill(heldTail, -1);
        this.heldLength = new int[pool.total()];
        this.views = new MemorySegment[pool.total()];
        // Every buffer that can stand in for a receive buffer gets its view now, so that a
        // swap (see replacement) never allocates on the loop thread later.
        for (int id = 0; id < views.length && id <= MAX_BUFFER_ID; id++) {
            if (pool.capacity(id) >= length) {
                views[id] = region.asSlice(pool.offset(id), length);
            }
        }
        this.starved = new int[64];
        this.positionOf = new int[views.length];
        this.filled = new int[views.length];
        this.copy = new boolean[pool.total()];
        int entries = options.providedBufferCount();
        this.pieceId = new int[entries];
        this.pieceOffset = new int[entries];
        this.pieceLength = new int[entries];
        this.pieceDone = new boolean[entries];
        this.ring = register(uring, entries, stats);
        this.incremental = stats.uses(UringStats.INCREMENTAL_BUFFERS);
        try {
            for (int i = 0; i < options.providedBufferCount(); i++) {
                int id = pool.acquire(size);
                if (id < 0 || id > MAX_BUFFER_ID) {
                    throw new IllegalArgumentException("the buffer pool cannot lend " + options.providedBufferCount()
                            + " receive buffers with 16-bit ids (buffer " + id + ")");
                }
                provide(id);
            }
        } catch (RuntimeException e) {
            ring.close();
            throw e;
        }
    }

    /**
     * Registers the provided buffer ring, consumed incrementally where the kernel can
     * (IOU_PBUF_RING_INC, 6.12; an older kernel refuses the flag with EINVAL).
     */
    private static ProvidedBufferRing register(IoUringRing uring, int entries, UringStats stats) {
        if (UringRings.allowed(UringRings.INCREMENTAL)) {
            try {
                ProvidedBufferRing r = ProvidedBufferRing.register(uring, entries, BGID, IOU_PBUF_RING_INC);
                stats.use(UringStats.INCREMENTAL_BUFFERS);
                return r;
            } catch (SyscallException e) {
                if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
            }
        }
        return ProvidedBufferRing.register(uring, entries, BGID);
    }

    int bgid() {
        return ring.bgid();
    }

    /** Buffers the kernel can fill now. */
    int available() {
        return available;
    }

    /** Lends buffer {@code id} to the kernel (again). */
    void provide(int id) {
        pool.setNext(id, -1);
        positionOf[id] = ring.tail();
        filled[id] = 0;
        ring.provide(pool.address(id), length, id);
        available++;
    }

    /**
     * A pool buffer that can be lent to the kernel in place of a receive buffer whose bytes the
     * loop keeps (queued for sending), or -1 when the pool has none with a 16-bit id to spare.
     */
    int replacement() {
        // Only the receive size class: a larger buffer lent in its place would hold 16 KiB of
        // a 64 KiB buffer, and the queues that copy would run out of room sooner.
        int id = pool.acquireExactly(size);
        if (id >= 0 && views[id] == null) { // too large an id for the kernel's 16 bits
            pool.release(id);
            return -1;
        }
        return id;
    }

    /** The address of buffer {@code id}'s first byte. */
    long address(int id) {
        return pool.address(id);
    }

    /** A completion named buffer {@code id}: the kernel filled it and gave it back to the loop. */
    private void taken(int id) {
        ring.taken(id);
        available--;
    }

    /**
     * A receive completion named buffer {@code firstId} for {@code bytes} bytes: splits them into
     * the pieces of the buffers they fill, in order, and takes back from the kernel each buffer
     * it is done with. A bundle (IORING_RECVSEND_BUNDLE) fills the buffers lent right after the
     * first in the ring, each to its end but the last. An incremental ring fills a buffer from
     * where its previous completion stopped, and keeps it while room is left
     * ({@code bufferMore}, IORING_CQE_F_BUF_MORE, said of the last one). Returns how many pieces;
     * {@link #pieceId} and the like describe them until the next completion.
     */
    int take(int firstId, int bytes, boolean bufferMore) {
        pieces = 0;
        if (bytes <= 0) {
            if (!incremental) {
                taken(firstId); // a whole buffer without bytes: back to the kernel unread
                piece(firstId, 0, 0, true);
            }
            return pieces;
        }
        int position = positionOf[firstId];
        for (int left = bytes; left > 0; ) {
            if (pieces == pieceId.length) {
                throw new IllegalStateException("a completion of " + bytes + " bytes spans more than the "
                        + pieceId.length + " buffers of the ring");
            }
            int id = ring.bidAt(position + pieces);
            if (pieces == 0 && id != firstId) {
                throw new IllegalStateException("the completion names buffer " + firstId + " but ring position "
                        + position + " holds buffer " + id);
            }
            int offset = incremental ? filled[id] : 0;
            int n = Math.min(length - offset, left);
            left -= n;
            // The kernel moves past every buffer but the last; of the last it says itself
            // whether it keeps it (it may hand a buffer back before its end, never keep a full one).
            boolean done = !incremental || left > 0 || !bufferMore;
            if (incremental) {
                filled[id] = offset + n;
                if (!done && offset + n == length) {
                    throw new IllegalStateException("buffer " + id + " is full, yet the kernel keeps it");
                }
            }
            if (done) {
                taken(id);
            }
            piece(id, offset, n, done);
        }
        return pieces;
    }

    private void piece(int id, int offset, int n, boolean done) {
        pieceId[pieces] = id;
        pieceOffset[pieces] = offset;
        pieceLength[pieces] = n;
        pieceDone[pieces] = done;
        pieces++;
    }

    int pieceId(int i) {
        return pieceId[i];
    }

    int pieceOffset(int i) {
        return pieceOffset[i];
    }

    int pieceLength(int i) {
        return pieceLength[i];
    }

    /** Whether the buffer of piece {@code i} is the loop's (else the kernel fills it further). */
    boolean pieceDone(int i) {
        return pieceDone[i];
    }

    /** Lends the buffers the last {@link #take} handed back to the kernel again, unread. */
    void provideTaken() {
        for (int i = 0; i < pieces; i++) {
            if (pieceDone[i]) {
                provide(pieceId[i]);
            }
        }
        pieces = 0;
    }

    /**
     * The bytes of buffer {@code id} as a segment, when the kernel filled the whole buffer
     * ({@code n} is its length); null otherwise. Views are made once per buffer, so a slice of
     * any other length would cost an allocation: such bytes are copied out instead.
     */
    MemorySegment view(int id, int n) {
        return n == length ? views[id] : null;
    }

    /** Copies {@code n} bytes from {@code offset} in buffer {@code id} to the start of the loop's read buffer. */
    void copyOut(int id, int offset, int n) {
        MemorySegment.copy(region, pool.offset(id) + offset, readBuffer, 0, n);
    }

    /**
     * Keeps a copy of {@code n} bytes from {@code offset} in receive buffer {@code id} for
     * {@code slot}, after what it holds already, in a pool buffer of its own: bytes of a buffer
     * the kernel still fills, or shares with other connections, cannot be held in place. Returns
     * the copy's buffer, or -1 when the pool has none free.
     */
    int holdCopy(int slot, int id, int offset, int n) {
        int c = pool.acquire(n);
        if (c >= 0) {
            MemorySegment.copy(region, pool.offset(id) + offset, region, pool.offset(c), n);
            copy[c] = true;
            hold(slot, c, n);
        }
        return c;
    }

    /** A buffer read to its end: a receive buffer is lent to the kernel again, a copy goes back to the pool. */
    void giveBack(int id) {
        if (copy[id]) {
            copy[id] = false;
            pool.release(id);
        } else {
            provide(id);
        }
    }

    // ---------------------------------------------------------------- held while paused

    /** Keeps the {@code n} bytes of buffer {@code id} for {@code slot}, after what it holds already. */
    void hold(int slot, int id, int n) {
        heldLength[id] = n;
        pool.setNext(id, -1);
        if (heldTail[slot] < 0) {
            heldHead[slot] = id;
        } else {
            pool.setNext(heldTail[slot], id);
        }
        heldTail[slot] = id;
    }

    boolean holds(int slot) {
        return heldHead[slot] >= 0;
    }

    /** Bytes in the oldest buffer {@code slot} holds. */
    int heldLength(int slot) {
        return heldLength[heldHead[slot]];
    }

    /** Takes the oldest buffer {@code slot} holds; the caller delivers it and provides it again. */
    int unhold(int slot) {
        int id = heldHead[slot];
        heldHead[slot] = pool.next(id);
        if (heldHead[slot] < 0) {
            heldTail[slot] = -1;
        }
        pool.setNext(id, -1);
        return id;
    }

    /** Gives everything {@code slot} holds back to the kernel (the connection closed). */
    void releaseHeld(int slot) {
        while (holds(slot)) {
            giveBack(unhold(slot));
        }
    }

    // ---------------------------------------------------------------- starved connections

    /** {@code slot} wants to receive but no buffer is left: it waits for {@link #nextUnstarved}. */
    void starve(int slot) {
        if (starvedCount == starved.length) {
            starved = Arrays.copyOf(starved, starved.length * 2);
        }
        starved[starvedCount++] = slot;
    }

    /** A starved slot to serve now that buffers are available again, or -1. */
    int nextUnstarved() {
        return available > 0 && starvedCount > 0 ? starved[--starvedCount] : -1;
    }

    /** Unregisters the ring; the buffers go back with the pool's memory. */
    @Override
    public void close() {
        ring.close();
    }
}
