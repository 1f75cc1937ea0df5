package dev.keel.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.keel.ffm.gen.LinuxConstants.MAP_ANONYMOUS;
import static dev.keel.ffm.gen.LinuxConstants.MAP_POPULATE;
import static dev.keel.ffm.gen.LinuxConstants.MAP_PRIVATE;
import static dev.keel.ffm.gen.LinuxConstants.MAP_SHARED;
import static dev.keel.ffm.gen.LinuxConstants.PROT_READ;
import static dev.keel.ffm.gen.LinuxConstants.PROT_WRITE;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The two mmap(2) calls the io_uring classes need: mapping the kernel's ring regions of a ring
 * fd, and anonymous page-aligned memory for provided buffer rings.
 *
 * <pre>{@code
 * void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
 * int munmap(void *addr, size_t length);
 * }</pre>
 *
 * <p>Stop-gap, package-private on purpose: the public {@code Mman} binding is owned elsewhere.
 * When it lands, these two methods fold into it and the io_uring classes call {@code Mman}.
 * Addresses are returned as raw {@code long}s; callers wrap them into segments scoped to an
 * arena they close before unmapping, so a closed ring cannot be touched through a stale segment.
 */
final class RingMemory {
    private static final MethodHandle MMAP = Downcalls.errnoHandle("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), true);
    private static final MethodHandle MUNMAP = Downcalls.errnoHandle("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), true);
    /** mmap(2) reports failure with MAP_FAILED, {@code (void *) -1}, not with NULL. */
    private static final long MAP_FAILED = -1L;

    private RingMemory() {
    }

    /** Maps {@code length} bytes of the io_uring region at {@code offset} (an IORING_OFF_* value) of {@code ringFd}. */
    static long mapRing(int ringFd, long length, long offset) {
        // MAP_POPULATE: fault the shared ring pages in now, not on the first completion.
        return mmap("mmap io_uring ring", length, MAP_SHARED | MAP_POPULATE, ringFd, offset);
    }

    /** Maps {@code length} bytes of zeroed, page-aligned anonymous memory. */
    static long mapAnonymous(long length) {
        return mmap("mmap anonymous", length, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0L);
    }

    private static long mmap(String call, long length, int flags, int fd, long offset) {
        MemorySegment st = CallState.current();
        try {
            MemorySegment p = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, length,
                    PROT_READ | PROT_WRITE, flags, fd, offset);
            if (p.address() == MAP_FAILED) {
                throw new SyscallException(call, CallState.errno(st));
            }
            return p.address();
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Unmaps {@code length} bytes at {@code address}. */
    static void unmap(long address, long length) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("munmap", (int) MUNMAP.invokeExact(st, MemorySegment.ofAddress(address), length), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
