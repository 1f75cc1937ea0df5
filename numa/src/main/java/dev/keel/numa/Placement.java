package dev.keel.numa;

import dev.keel.ffm.Mempolicy;
import dev.keel.ffm.Mman;
import dev.keel.ffm.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Verifies where memory landed: move_pages(2) with no target nodes only reports the node of
 * each page, which is the one way to know (a policy is a request; first touch, cpusets and
 * memory pressure decide). This is set-up and diagnostic code, not a hot path.
 */
public final class Placement {
    // Pages asked about per move_pages call: bounds the scratch arrays (48 KiB) for any range.
    private static final int BATCH = 4096;

    private Placement() {
    }

    /**
     * Counts the pages of {@code range} per node; untouched pages are counted apart.
     *
     * @throws NumaException when move_pages fails (SYSCALLS_BLOCKED under a seccomp filter)
     */
    public static PageHistogram of(MemorySegment range) {
        if (!range.isNative()) {
            throw new IllegalArgumentException("a heap segment has no pages of its own to locate");
        }
        long page = Mman.pageSize();
        long first = Math.floorDiv(range.address(), page) * page;
        long end = range.address() + range.byteSize();
        long pages = range.byteSize() == 0 ? 0 : (end - first + page - 1) / page;
        Map<Integer, Long> perNode = new HashMap<>();
        Map<Integer, Long> errors = new HashMap<>();
        long notPresent = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addresses = arena.allocate(ADDRESS, BATCH);
            MemorySegment status = arena.allocate(JAVA_INT, BATCH);
            for (long done = 0; done < pages; done += BATCH) {
                int n = (int) Math.min(BATCH, pages - done);
                for (int i = 0; i < n; i++) {
                    addresses.setAtIndex(ADDRESS, i, MemorySegment.ofAddress(first + (done + i) * page));
                }
                try {
                    Mempolicy.movePages(0, n, addresses, MemorySegment.NULL, status, 0);
                } catch (SyscallException e) {
                    throw NumaException.from(e, "read where pages are");
                }
                for (int i = 0; i < n; i++) {
                    int s = status.getAtIndex(JAVA_INT, i);
                    if (s >= 0) {
                        perNode.merge(s, 1L, Long::sum);
                    } else if (s == -dev.keel.ffm.gen.Errno.ENOENT) {
                        notPresent++;
                    } else {
                        errors.merge(-s, 1L, Long::sum);
                    }
                }
            }
        }
        return new PageHistogram(pages, perNode, notPresent, errors);
    }

    /**
     * Checks that every page of {@code range} is present and on one of {@code nodes}, as an
     * event loop does at start-up for its buffer pool.
     *
     * @return the histogram, for logging
     * @throws NumaException MISPLACED naming where the pages are
     */
    public static PageHistogram verify(MemorySegment range, IdSet nodes) {
        PageHistogram h = of(range);
        if (!h.allPresentOn(nodes)) {
            throw new NumaException(NumaException.Reason.MISPLACED,
                    "memory at 0x" + Long.toHexString(range.address()) + " is not all on node(s) " + nodes + ": " + h);
        }
        return h;
    }
}
