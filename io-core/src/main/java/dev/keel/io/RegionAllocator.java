package dev.keel.io;

import dev.keel.ffm.Mman;
import dev.keel.ffm.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.MADV_HUGEPAGE;
import static dev.keel.ffm.gen.LinuxConstants.MAP_ANONYMOUS;
import static dev.keel.ffm.gen.LinuxConstants.MAP_PRIVATE;
import static dev.keel.ffm.gen.LinuxConstants.PROT_READ;
import static dev.keel.ffm.gen.LinuxConstants.PROT_WRITE;

/**
 * Where a loop's off-heap memory (its buffer pool and connection table) comes from. The
 * default maps anonymous memory, faulted in only when touched and backed by huge pages where
 * the kernel allows; a loop pinned to a CPU binds it to that CPU's NUMA node instead (see
 * {@code numa.NumaMemory}). The memory must stay valid until {@code arena} closes.
 */
@FunctionalInterface
public interface RegionAllocator {
    /** Alignment of a region: a huge page, so MADV_HUGEPAGE can take effect. */
    long HUGE_PAGE = 2L * 1024 * 1024;

    /**
     * A region of {@code bytes} owned by {@code arena} (freed when it closes). Called at loop
     * set-up, on the loop thread, never per message; may map memory and fault it in.
     */
    MemorySegment allocate(Arena arena, long bytes);

    /** Anonymous memory unmapped when {@code arena} closes, with MADV_HUGEPAGE where allowed. */
    static RegionAllocator anonymous() {
        return (arena, bytes) -> {
            MemorySegment mapping = Mman.mmapAligned(bytes, HUGE_PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS);
            mapping = Mman.unmapOnClose(mapping, arena);
            try {
                Mman.madvise(mapping, MADV_HUGEPAGE);
            } catch (SyscallException e) {
                // Transparent huge pages are off (or disabled for us): small pages work as well.
            }
            return mapping;
        };
    }

    /** Zeroed memory from {@code arena} itself, huge-page aligned. */
    static RegionAllocator arena() {
        return (arena, bytes) -> arena.allocate(bytes, HUGE_PAGE);
    }
}
