package dev.keel.io.loop;

import dev.keel.ffm.Arenas;
import dev.keel.io.RegionAllocator;
import dev.keel.numa.IdSet;
import dev.keel.numa.NumaException;
import dev.keel.numa.NumaMemory;
import dev.keel.numa.NumaTopology;
import dev.keel.numa.PageHistogram;
import dev.keel.numa.Placement;

import java.lang.foreign.MemorySegment;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a loop's table and buffers live: the application's allocator if it gave one; else
 * memory bound to the NUMA node of the loop's CPU when the loop is pinned; else plain
 * anonymous memory. A container that blocks the NUMA system calls gets plain memory and one
 * log line, not a loop that cannot start.
 *
 * <p>Bound memory is faulted in when it is allocated (MADV_POPULATE_WRITE under the bind
 * policy), so every page exists on the node before the loop serves and {@link #verify} can
 * check each one: a page faulted in later, under memory pressure, could land elsewhere.
 *
 * @param allocator where the loop's regions come from
 * @param node      the NUMA node they are bound to, or -1
 */
public record LoopMemory(RegionAllocator allocator, int node) {
    private static final System.Logger LOG = System.getLogger("dev.keel.io");

    /** Bytes of the regions handed out by every loop's allocator and not yet freed, in this process. */
    private static final AtomicLong LIVE_REGION_BYTES = new AtomicLong();

    public LoopMemory {
        allocator = counted(allocator);
    }

    /**
     * Off-heap bytes of the tables and buffer pools of every loop of this process that has not
     * freed them yet (mapped memory the JVM's direct-memory figure does not see): the figure
     * leak accounting compares (the test support's ResourceSnapshot).
     */
    public static long liveRegionBytes() {
        return LIVE_REGION_BYTES.get();
    }

    /** {@code inner}, with each region counted while the arena that frees it is open. */
    private static RegionAllocator counted(RegionAllocator inner) {
        return (arena, bytes) -> {
            MemorySegment region = inner.allocate(arena, bytes);
            // The arena's close frees the region.
            Arenas.onClose(arena, () -> LIVE_REGION_BYTES.addAndGet(-bytes));
            LIVE_REGION_BYTES.addAndGet(bytes);
            return region;
        };
    }

    /** Memory for a loop pinned to {@code loopCpu} (-1: unpinned), or from {@code given} when the application gave an allocator. */
    public static LoopMemory forCpu(RegionAllocator given, int loopCpu, String loopName) {
        if (given != null) {
            return new LoopMemory(given, -1);
        }
        if (loopCpu >= 0) {
            NumaTopology topology = NumaTopology.system();
            OptionalInt cpuNode = topology.nodeOfCpu(loopCpu);
            if (cpuNode.isPresent() && topology.syscallProblem().isEmpty()) {
                int node = cpuNode.getAsInt();
                return new LoopMemory(NumaMemory.bind(node).withPrefault()::allocate, node);
            }
            topology.syscallProblem().ifPresent(problem -> LOG.log(System.Logger.Level.INFO,
                    loopName + ": memory not bound to a NUMA node: " + problem));
        }
        return new LoopMemory(RegionAllocator.anonymous(), -1);
    }

    /**
     * When bound: checks that every page of the connection table (records and user areas) and of
     * the buffer pool is present on the node (move_pages over all of them, in batches); throws
     * otherwise, naming the region and where its pages are: the loop does not start on remote
     * memory.
     */
    public void verify(ConnectionTable table, BufferPool pool) {
        if (node < 0) {
            return;
        }
        IdSet nodes = IdSet.of(node);
        verifyRegion("connection table", table.records(), nodes);
        if (table.userAreas().byteSize() > 0) {
            verifyRegion("connection user areas", table.userAreas(), nodes);
        }
        verifyRegion("buffer pool", pool.region(), nodes);
    }

    /** Every page of {@code region} is on one of {@code nodes}, or MISPLACED naming {@code what}. */
    public static PageHistogram verifyRegion(String what, MemorySegment region, IdSet nodes) {
        try {
            return Placement.verify(region, nodes);
        } catch (NumaException e) {
            throw new NumaException(e.reason(), what + ": " + e.getMessage(), e);
        }
    }
}
