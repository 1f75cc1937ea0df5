package dev.keel.io;

import dev.keel.io.loop.BufferPool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Inbound bytes a handler did not consume yet ({@link Connection#keep}), per connection, and
 * their delivery in front of the next bytes: Netty's cumulation without its allocations. The
 * kept bytes of a connection wait in one buffer of the loop's pool (the smallest class that
 * holds them), given back as soon as nothing is kept; so a connection that keeps nothing costs
 * nothing, and at most {@link #capacity()} bytes (the pool's largest class) can be kept — a
 * handler that wants to keep more closes the connection as {@link CloseReason#FRAME_TOO_LARGE}.
 *
 * <p>When bytes arrive for a connection that kept some, both are copied, kept first, into the
 * loop's one assembly area (made at the first keep: the largest class plus the largest single
 * delivery) and the handler reads them there as one segment; views of that area are made once
 * per length and reused, so a delivery allocates nothing on the heap once each length was seen.
 * Loop-confined.
 */
final class Cumulation {
    private final BufferPool pool;
    private final Arena arena;
    private final int capacity;
    private final int assemblyBytes;
    /** The pool buffer holding each slot's kept bytes, or -1. */
    private final int[] buffer;
    private final int[] length;
    private MemorySegment assembly;
    private MemorySegment[] views;

    /** The delivery in progress: its slot (-1: none), its bytes, and how many of its last bytes the handler keeps. */
    private int deliveringSlot = -1;
    private MemorySegment delivering;
    private long keep;

    Cumulation(BufferPool pool, Arena arena, int slots, int largestDelivery) {
        this.pool = pool;
        this.arena = arena;
        int largest = 0;
        for (int id = 0; id < pool.total(); id = nextClass(id)) {
            largest = Math.max(largest, pool.capacity(id));
        }
        this.capacity = largest;
        this.assemblyBytes = largest + largestDelivery;
        this.buffer = new int[slots];
        this.length = new int[slots];
        Arrays.fill(buffer, -1);
    }

    private int nextClass(int id) {
        int size = pool.capacity(id);
        int next = id + 1;
        while (next < pool.total() && pool.capacity(next) == size) {
            next++;
        }
        return next;
    }

    /** Bytes one connection can keep at most. */
    int capacity() {
        return capacity;
    }

    /** Whether {@code slot} kept bytes that go in front of its next delivery. */
    boolean holds(int slot) {
        return buffer[slot] >= 0;
    }

    /** Bytes {@code slot} keeps now. */
    int held(int slot) {
        return buffer[slot] < 0 ? 0 : length[slot];
    }

    /** The slot's kept bytes followed by {@code data}, as one segment in the assembly area. */
    MemorySegment assemble(int slot, MemorySegment data) {
        int held = length[slot];
        long total = held + data.byteSize();
        MemorySegment.copy(pool.region(), pool.offset(buffer[slot]), assembly, 0, held);
        MemorySegment.copy(data, 0, assembly, held, data.byteSize());
        release(slot);
        return view((int) total);
    }

    private MemorySegment view(int n) {
        MemorySegment v = views[n];
        if (v == null) {
            v = assembly.asSlice(0, n);
            views[n] = v;
        }
        return v;
    }

    /** The handler of {@code slot} is about to read {@code data}: {@link #keep} applies to it. */
    void begin(int slot, MemorySegment data) {
        deliveringSlot = slot;
        delivering = data;
        keep = 0;
    }

    /** {@link Connection#keep}: the last {@code bytes} of the delivery in progress of {@code slot} are kept. */
    void keep(int slot, long bytes) {
        if (slot != deliveringSlot) {
            throw new IllegalStateException("keep() belongs in the connection's own onData call");
        }
        if (bytes < 0 || bytes > delivering.byteSize()) {
            throw new IllegalArgumentException("keep(" + bytes + ") of a delivery of " + delivering.byteSize()
                    + " bytes");
        }
        keep = bytes;
    }

    /**
     * The delivery ended: stores the bytes kept (false when they do not fit: the caller closes
     * the connection as FRAME_TOO_LARGE).
     */
    boolean end(int slot, boolean live) {
        long kept = keep;
        MemorySegment data = delivering;
        deliveringSlot = -1;
        delivering = null;
        keep = 0;
        if (kept == 0 || !live) {
            return true;
        }
        if (kept > capacity) {
            return false;
        }
        int id = pool.acquire((int) kept);
        if (id < 0) {
            return false;
        }
        if (assembly == null) {
            assembly = arena.allocate(assemblyBytes, 64);
            views = new MemorySegment[assemblyBytes + 1];
        }
        MemorySegment.copy(data, data.byteSize() - kept, pool.region(), pool.offset(id), kept);
        buffer[slot] = id;
        length[slot] = (int) kept;
        return true;
    }

    /** Gives back what {@code slot} kept (it closed, or its kept bytes were delivered). */
    void release(int slot) {
        if (buffer[slot] >= 0) {
            pool.release(buffer[slot]);
            buffer[slot] = -1;
            length[slot] = 0;
        }
    }
}
