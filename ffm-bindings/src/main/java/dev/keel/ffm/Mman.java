package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Memory mappings: mmap(2), munmap(2), madvise(2), mlock(2)/munlock(2).
 *
 * <pre>{@code
 * void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
 * int munmap(void *addr, size_t length);
 * int madvise(void *addr, size_t length, int advice);
 * int mlock(const void *addr, size_t len);
 * int munlock(const void *addr, size_t len);
 * int getpagesize(void);
 * }</pre>
 *
 * A mapping comes back as a {@link MemorySegment} of exactly the mapped length. None of these
 * calls is {@code critical}: each may fault in or reclaim pages and so may block.
 */
public final class Mman {
    private static final MethodHandle MMAP = Downcalls.errnoHandle("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), false);
    private static final MethodHandle MUNMAP = Downcalls.errnoHandle("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), false);
    private static final MethodHandle MADVISE = Downcalls.errnoHandle("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), false);
    private static final MethodHandle MLOCK = Downcalls.errnoHandle("mlock",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), false);
    private static final MethodHandle MUNLOCK = Downcalls.errnoHandle("munlock",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), false);
    private static final MethodHandle GETPAGESIZE = Downcalls.plainHandle("getpagesize",
            FunctionDescriptor.of(JAVA_INT), true);

    private Mman() {
    }

    /**
     * Maps {@code length} bytes at an address the kernel chooses. The segment has the global
     * scope: the caller owns the mapping and must {@link #munmap} it.
     *
     * @throws SyscallException when mmap returns MAP_FAILED
     */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        MemorySegment st = CallState.current();
        MemorySegment addr;
        try {
            addr = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
        if (addr.address() == LinuxConstants.MAP_FAILED) {
            throw new SyscallException("mmap", CallState.errno(st));
        }
        return addr.reinterpret(length);
    }

    /**
     * Maps {@code length} bytes of an io_uring region ({@code IORING_OFF_SQ_RING},
     * {@code IORING_OFF_CQ_RING}, {@code IORING_OFF_SQES}) of {@code ringFd}, faulted in now
     * (MAP_POPULATE) rather than on the first completion. Returns its address.
     */
    static long mapRing(int ringFd, long length, long offset) {
        return mmap(length, LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE,
                LinuxConstants.MAP_SHARED | LinuxConstants.MAP_POPULATE, ringFd, offset).address();
    }

    /**
     * Like {@link #mmap} but the mapping starts on a multiple of {@code alignment} (a power of
     * two, e.g. the PMD size so that MADV_HUGEPAGE can back the whole range with huge pages):
     * maps {@code length + alignment} bytes and unmaps the unaligned head and the tail.
     */
    public static MemorySegment mmapAligned(long length, long alignment, int prot, int flags) {
        if (Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        if (alignment <= pageSize()) {
            return mmap(length, prot, flags, -1, 0);
        }
        MemorySegment wide = mmap(length + alignment, prot, flags, -1, 0);
        long start = (wide.address() + alignment - 1) & -alignment;
        long head = start - wide.address();
        long tailStart = pageCeiling(start + length);
        long tail = wide.address() + wide.byteSize() - tailStart;
        if (head > 0) {
            munmap(wide, head);
        }
        if (tail > 0) {
            munmap(MemorySegment.ofAddress(tailStart), tail);
        }
        return MemorySegment.ofAddress(start).reinterpret(length);
    }

    private static long pageCeiling(long address) {
        long page = pageSize();
        return (address + page - 1) & -page;
    }

    /**
     * Maps {@code length} bytes of private anonymous memory ({@code MAP_PRIVATE | MAP_ANONYMOUS}
     * plus {@code extraFlags}) that {@code arena} unmaps when it closes. Pages are not touched:
     * they cost nothing until first written.
     */
    public static MemorySegment mapAnonymous(Arena arena, long length, int prot, int extraFlags) {
        MemorySegment mapping = mmap(length, prot,
                LinuxConstants.MAP_PRIVATE | LinuxConstants.MAP_ANONYMOUS | extraFlags, -1, 0);
        return unmapOnClose(mapping, arena);
    }

    /**
     * Hands {@code mapping} (from {@link #mmap}) to {@code arena}: the returned segment has the
     * arena's scope and the mapping is unmapped when the arena closes. If the arena cannot take
     * it (closed, or confined to another thread) the mapping is unmapped before the exception.
     */
    public static MemorySegment unmapOnClose(MemorySegment mapping, Arena arena) {
        long address = mapping.address();
        long length = mapping.byteSize();
        try {
            return mapping.reinterpret(length, arena, unused -> munmap(MemorySegment.ofAddress(address), length));
        } catch (RuntimeException e) {
            munmap(mapping);
            throw e;
        }
    }

    /** Unmaps the whole of {@code mapping}. */
    public static void munmap(MemorySegment mapping) {
        munmap(mapping, mapping.byteSize());
    }

    private static void munmap(MemorySegment start, long length) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("munmap", (int) MUNMAP.invokeExact(st, start, length), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Gives the kernel {@code advice} (MADV_DONTNEED, MADV_HUGEPAGE, ...) about {@code range},
     * which must start on a page boundary.
     *
     * @throws SyscallException EINVAL for an unaligned start or an advice the kernel rejects
     */
    public static void madvise(MemorySegment range, int advice) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("madvise", (int) MADVISE.invokeExact(st, range, range.byteSize(), advice), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Locks the pages of {@code range} in memory (faulting them in); limited by RLIMIT_MEMLOCK. */
    public static void mlock(MemorySegment range) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("mlock", (int) MLOCK.invokeExact(st, range, range.byteSize()), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Unlocks the pages of {@code range}. */
    public static void munlock(MemorySegment range) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("munlock", (int) MUNLOCK.invokeExact(st, range, range.byteSize()), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** The size of a base page in bytes, the unit of mmap, madvise and move_pages. */
    public static long pageSize() {
        try {
            return (int) GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
