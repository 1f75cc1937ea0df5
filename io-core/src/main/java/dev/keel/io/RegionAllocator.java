package dev.keel.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Where a loop's buffer pool gets its one region of memory. The default asks the loop's arena
 * for page-aligned memory; a NUMA-aware allocator binds the region to the loop's node. The
 * region must stay valid until {@code arena} closes.
 */
@FunctionalInterface
public interface RegionAllocator {
    /** Alignment of the default region: a huge page, so MADV_HUGEPAGE can take effect. */
    long HUGE_PAGE = 2L * 1024 * 1024;

    MemorySegment allocate(Arena arena, long bytes);

    /** Memory from {@code arena}, huge-page aligned. */
    static RegionAllocator arena() {
        return (arena, bytes) -> arena.allocate(bytes, HUGE_PAGE);
    }
}
