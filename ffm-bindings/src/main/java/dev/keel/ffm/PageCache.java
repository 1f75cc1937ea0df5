package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.keel.ffm.gen.LinuxConstants.RWF_NOWAIT;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reading files with the page cache in mind: pread(2), preadv2(2) with RWF_NOWAIT (read only
 * what is cached, never wait for the disk) and posix_fadvise(2).
 *
 * <pre>{@code
 * ssize_t pread(int fd, void *buf, size_t count, off_t offset);
 * ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
 * int posix_fadvise(int fd, off_t offset, off_t len, int advice);   // returns the error, not -1
 * }</pre>
 */
public final class PageCache {
    // Not critical: a pread of a page not in the cache sleeps on the disk.
    private static final MethodHandle PREAD = Downcalls.errnoHandle("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), false);
    // RWF_NOWAIT never waits for I/O: critical is safe.
    private static final MethodHandle PREADV2 = Downcalls.errnoHandle("preadv2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), true);
    private static final MethodHandle FADVISE = Downcalls.plainHandle("posix_fadvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), false);

    private PageCache() {
    }

    /**
     * pread(2): up to {@code count} bytes at {@code offset} into {@code buffer}, waiting for the
     * disk if it must. Returns bytes read (0 at end of file) or {@code -EINTR}; errors throw.
     */
    public static long pread(int fd, MemorySegment buffer, long count, long offset) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("pread", (long) PREAD.invokeExact(st, fd, buffer, count, offset), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * preadv2(2) with RWF_NOWAIT into one iovec ({@code iovec}, made with
     * {@link Uio#setIovec}): reads only bytes already in the page cache.
     *
     * @return bytes read (fewer than asked when only a prefix is cached, 0 at end of file), or
     *         {@code -EAGAIN} when the first byte is not cached, {@code -EOPNOTSUPP} when the
     *         file system cannot say; other errors throw
     */
    public static long preadNoWait(int fd, MemorySegment iovec, long offset) {
        MemorySegment st = CallState.current();
        try {
            long r = (long) PREADV2.invokeExact(st, fd, iovec, 1, offset, RWF_NOWAIT);
            if (r < 0) {
                int errno = CallState.errno(st);
                if (errno == Errno.EAGAIN || errno == Errno.EOPNOTSUPP || errno == Errno.EINTR) {
                    return -errno;
                }
                throw new SyscallException("preadv2", errno);
            }
            return r;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** posix_fadvise(2): {@code advice} (POSIX_FADV_WILLNEED, DONTNEED...) for a range; errors throw. */
    public static void fadvise(int fd, long offset, long length, int advice) {
        int r;
        try {
            r = (int) FADVISE.invokeExact(fd, offset, length, advice);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
        if (r != 0) {
            throw new SyscallException("posix_fadvise", r);
        }
    }
}
