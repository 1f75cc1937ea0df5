package dev.keel.io.loop;

import dev.keel.io.RegionAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A loop's buffers, carved from one region in size classes (for example 2 KiB, 16 KiB and
 * 64 KiB). A buffer is an int id; its memory is {@code region()} at {@link #offset(int)}.
 * Free lists are int stacks and buffers can be chained through {@link #next(int)}: there is no
 * heap object per buffer and no lock (the pool belongs to one loop thread).
 */
public final class BufferPool {
    private final MemorySegment region;
    private final int[] classSize;
    private final int[] classFirstId;
    private final long[] classBaseOffset;
    private final int[][] freeStack;
    private final int[] freeTop;
    private final int[] next;
    private final boolean[] inUse;
    private final int total;
    private int acquired;

    /**
     * Carves the pool's buffers out of one region from {@code allocator} (the loop's NUMA node
     * when pinned); called once, on the thread that builds the loop.
     *
     * @param sizes  bytes of one buffer in each class, ascending
     * @param counts buffers in each class
     */
    public BufferPool(Arena arena, RegionAllocator allocator, int[] sizes, int[] counts) {
        if (sizes.length == 0 || sizes.length != counts.length) {
            throw new IllegalArgumentException("size classes and counts must pair up");
        }
        classSize = sizes.clone();
        classFirstId = new int[sizes.length];
        classBaseOffset = new long[sizes.length];
        freeStack = new int[sizes.length][];
        freeTop = new int[sizes.length];
        long bytes = 0;
        int ids = 0;
        for (int c = 0; c < sizes.length; c++) {
            if (c > 0 && sizes[c] <= sizes[c - 1]) {
                throw new IllegalArgumentException("size classes must ascend: " + Arrays.toString(sizes));
            }
            classFirstId[c] = ids;
            classBaseOffset[c] = bytes;
            bytes += (long) sizes[c] * counts[c];
            freeStack[c] = new int[counts[c]];
            for (int i = 0; i < counts[c]; i++) {
                // Lowest ids on top: the pool reuses the same few buffers while load is light.
                freeStack[c][i] = ids + counts[c] - 1 - i;
            }
            freeTop[c] = counts[c];
            ids += counts[c];
        }
        total = ids;
        next = new int[ids];
        Arrays.fill(next, -1);
        inUse = new boolean[ids];
        region = allocator.allocate(arena, bytes);
        if (region.byteSize() < bytes) {
            throw new IllegalStateException("region allocator returned " + region.byteSize() + " bytes, asked " + bytes);
        }
    }

    /** A buffer of at least {@code minBytes} (the smallest class that fits and has one free), or -1. */
    public int acquire(int minBytes) {
        for (int c = 0; c < classSize.length; c++) {
            if (classSize[c] >= minBytes && freeTop[c] > 0) {
                int id = freeStack[c][--freeTop[c]];
                inUse[id] = true;
                next[id] = -1;
                acquired++;
                return id;
            }
        }
        return -1;
    }

    /**
     * A buffer of exactly {@code bytes} (a class size), or -1 when that class has none free:
     * for a caller that must not tie up a larger buffer in its place.
     */
    public int acquireExactly(int bytes) {
        for (int c = 0; c < classSize.length; c++) {
            if (classSize[c] == bytes) {
                return freeTop[c] > 0 ? acquire(bytes) : -1;
            }
        }
        return -1;
    }

    /** The largest buffer available, or -1 when the pool is empty. */
    public int acquireLargest() {
        for (int c = classSize.length - 1; c >= 0; c--) {
            if (freeTop[c] > 0) {
                return acquire(classSize[c]);
            }
        }
        return -1;
    }

    public void release(int id) {
        if (!inUse[id]) {
            throw new IllegalStateException("buffer " + id + " released twice");
        }
        inUse[id] = false;
        next[id] = -1;
        int c = classOf(id);
        freeStack[c][freeTop[c]++] = id;
        acquired--;
    }

    private int classOf(int id) {
        int c = classSize.length - 1;
        while (id < classFirstId[c]) {
            c--;
        }
        return c;
    }

    public long offset(int id) {
        int c = classOf(id);
        return classBaseOffset[c] + (long) (id - classFirstId[c]) * classSize[c];
    }

    public long address(int id) {
        return region.address() + offset(id);
    }

    public int capacity(int id) {
        return classSize[classOf(id)];
    }

    public int next(int id) {
        return next[id];
    }

    public void setNext(int id, int nextId) {
        next[id] = nextId;
    }

    public MemorySegment region() {
        return region;
    }

    /** Buffers handed out and not yet released. */
    public int inUse() {
        return acquired;
    }

    /** Bytes of the buffers handed out and not yet released (kernel-lent receive buffers included). */
    public long bytesInUse() {
        long bytes = 0;
        for (int c = 0; c < classSize.length; c++) {
            bytes += (long) classSize[c] * (freeStack[c].length - freeTop[c]);
        }
        return bytes;
    }

    public int total() {
        return total;
    }

    public long offHeapBytes() {
        return region.byteSize();
    }
}
