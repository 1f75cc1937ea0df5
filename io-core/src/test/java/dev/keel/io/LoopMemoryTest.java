package dev.keel.io;

import dev.keel.io.loop.LoopMemory;
import dev.keel.affinity.CpuTopology;
import dev.keel.ffm.Mman;
import dev.keel.numa.IdSet;
import dev.keel.numa.NumaException;
import dev.keel.numa.NumaTopology;
import dev.keel.numa.PageHistogram;
import dev.keel.numa.Placement;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A pinned loop's memory: bound to its CPU's node and faulted in there when allocated, and
 * checked page by page, so a region whose last page is missing is refused although its first
 * page is fine (the check used to look at the first page only).
 */
class LoopMemoryTest {
    private static final long MIB = 1 << 20;

    @Test
    void shouldAllocateEveryPageOnTheLoopCpusNodeAtOnce() {
        NumaTopology numa = NumaTopology.system();
        assumeTrue(numa.syscallProblem().isEmpty(), () -> "NUMA system calls blocked: " + numa.syscallProblem().get());
        int cpu = CpuTopology.system().usable().first();
        LoopMemory memory = LoopMemory.forCpu(LoopOptions.defaults().regionAllocator, cpu, "test-loop");
        int node = numa.nodeOfCpu(cpu).orElseThrow();
        assertEquals(node, memory.node());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = memory.allocator().allocate(arena, 8 * MIB);
            PageHistogram h = Placement.of(region);
            assertEquals(8 * MIB / Mman.pageSize(), h.onNode(node), "every page present on the node before any use: " + h);
            assertEquals(h, LoopMemory.verifyRegion("buffer pool", region, IdSet.of(node)));
        }
    }

    @Test
    void shouldRefuseARegionWhoseLastPageIsNotOnTheNode() {
        NumaTopology numa = NumaTopology.system();
        assumeTrue(numa.syscallProblem().isEmpty(), () -> "NUMA system calls blocked: " + numa.syscallProblem().get());
        long page = Mman.pageSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = RegionAllocator.anonymous().allocate(arena, 64 * page);
            for (long off = 0; off < 63 * page; off += page) {
                region.set(JAVA_BYTE, off, (byte) 1); // all but the last page faulted in
            }
            assertTrue(Placement.verify(region.asSlice(0, page), numa.allowedNodes()).allPresentOn(numa.allowedNodes()),
                    "the first page alone would pass");
            NumaException e = assertThrows(NumaException.class,
                    () -> LoopMemory.verifyRegion("buffer pool", region, numa.allowedNodes()));
            assertEquals(NumaException.Reason.MISPLACED, e.reason());
            assertTrue(e.getMessage().startsWith("buffer pool: memory at 0x"), e.getMessage());
            assertTrue(e.getMessage().contains("(of 64 pages; 1 not present)"), e.getMessage());
        }
    }
}
