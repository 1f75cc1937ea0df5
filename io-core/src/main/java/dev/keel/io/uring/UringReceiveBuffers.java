package dev.keel.io.uring;

import dev.keel.io.LoopOptions;
import dev.keel.io.loop.BufferPool;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.ProvidedBufferRing;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The receive side of the io_uring transport's memory: a provided buffer ring whose buffers
 * are lent from one size class of the loop's {@link BufferPool} (the pool id is the buffer id
 * the kernel reports), and the receives a connection holds while its reading is paused.
 *
 * <p>Ownership, explicitly: a buffer is the kernel's from {@link #provide} until a completion
 * names it ({@link #taken}); then the loop's, until it is provided again — at once after its
 * bytes were copied out, or when a paused connection resumes or closes. {@link #available}
 * counts the kernel's share; the ring refuses, with IllegalStateException, to lend a buffer
 * the kernel holds already or more buffers than it has descriptors for.
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

    UringReceiveBuffers(IoUringRing uring, BufferPool pool, LoopOptions options, MemorySegment readBuffer) {
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
        this.ring = ProvidedBufferRing.register(uring, options.providedBufferCount(), BGID);
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
    void taken(int id) {
        ring.taken(id);
        available--;
    }

    /**
     * The bytes of buffer {@code id} as a segment, when the kernel filled the whole buffer
     * ({@code n} is its length); null otherwise. Views are made once per buffer, so a slice of
     * any other length would cost an allocation: such bytes are copied out instead.
     */
    MemorySegment view(int id, int n) {
        return n == length ? views[id] : null;
    }

    /** Copies the {@code n} bytes of buffer {@code id} to the start of the loop's read buffer. */
    void copyOut(int id, int n) {
        MemorySegment.copy(region, pool.offset(id), readBuffer, 0, n);
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
            provide(unhold(slot));
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
