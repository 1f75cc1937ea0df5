package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.Iovec;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Byte transfer on descriptors: read(2), write(2), readv(2), writev(2), recv(2), send(2).
 *
 * <pre>{@code
 * ssize_t read(int fd, void *buf, size_t count);
 * ssize_t writev(int fd, const struct iovec *iov, int iovcnt);
 * ssize_t send(int fd, const void *buf, size_t len, int flags);
 * struct iovec { void *iov_base; size_t iov_len; };
 * }</pre>
 * The plain methods are for non-blocking descriptors and use the critical linker option (no
 * thread-state transition): a blocking descriptor would hold up the garbage collector while
 * it waits, so blocking descriptors use the {@code *Blocking} variants. Results are byte
 * counts, 0 at end of stream for reads, or {@code -EAGAIN}/{@code -EINTR}; other failures
 * (ECONNRESET, EPIPE, ...) throw.
 */
public final class Uio {
    private static final FunctionDescriptor RW = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final FunctionDescriptor RWV = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final FunctionDescriptor SR =
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle READ = Downcalls.errnoHandle("read", RW, true);
    private static final MethodHandle WRITE = Downcalls.errnoHandle("write", RW, true);
    private static final MethodHandle READV = Downcalls.errnoHandle("readv", RWV, true);
    private static final MethodHandle WRITEV = Downcalls.errnoHandle("writev", RWV, true);
    private static final MethodHandle RECV = Downcalls.errnoHandle("recv", SR, true);
    private static final MethodHandle SEND = Downcalls.errnoHandle("send", SR, true);
    private static final MethodHandle READ_BLOCKING = Downcalls.errnoHandle("read", RW, false);
    private static final MethodHandle WRITE_BLOCKING = Downcalls.errnoHandle("write", RW, false);

    private Uio() {
    }

    /**
     * read(2) of at most {@code count} bytes into native {@code buffer} from a non-blocking {@code
     * fd}: bytes read, 0 at end of stream, {@code -EAGAIN} or {@code -EINTR}; other errors throw.
     * One system call in critical mode, allocates nothing; never blocks.
     */
    public static long read(int fd, MemorySegment buffer, long count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("read", (long) READ.invokeExact(st, fd, buffer, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * write(2) of at most {@code count} bytes of native {@code buffer} to a non-blocking {@code
     * fd}: bytes written (maybe fewer), {@code -EAGAIN} or {@code -EINTR}; other errors throw. One
     * system call in critical mode, allocates nothing; never blocks.
     */
    public static long write(int fd, MemorySegment buffer, long count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("write", (long) WRITE.invokeExact(st, fd, buffer, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Scatter read into {@code count} iovecs at {@code iovecs} (see {@link #setIovec}). */
    public static long readv(int fd, MemorySegment iovecs, int count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("readv", (long) READV.invokeExact(st, fd, iovecs, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Gather write of {@code count} iovecs at {@code iovecs} (see {@link #setIovec}). */
    public static long writev(int fd, MemorySegment iovecs, int count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("writev", (long) WRITEV.invokeExact(st, fd, iovecs, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * recv(2) with {@code flags} (e.g. {@code MSG_PEEK}) from a non-blocking socket: results and
     * costs as {@link #read}.
     */
    public static long recv(int fd, MemorySegment buffer, long count, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("recv", (long) RECV.invokeExact(st, fd, buffer, count, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** send(2); pass MSG_NOSIGNAL so a closed peer gives EPIPE instead of SIGPIPE. */
    public static long send(int fd, MemorySegment buffer, long count, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("send", (long) SEND.invokeExact(st, fd, buffer, count, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** read(2) on a descriptor that may block. */
    public static long readBlocking(int fd, MemorySegment buffer, long count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("read", (long) READ_BLOCKING.invokeExact(st, fd, buffer, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** write(2) on a descriptor that may block. */
    public static long writeBlocking(int fd, MemorySegment buffer, long count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("write", (long) WRITE_BLOCKING.invokeExact(st, fd, buffer, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Bytes needed for {@code n} iovecs. */
    public static long iovecArraySize(int n) {
        return n * Iovec.SIZE;
    }

    /** Fills iovec {@code i} of {@code iovecs} with {@code length} bytes at {@code address}. */
    public static void setIovec(MemorySegment iovecs, int i, long address, long length) {
        iovecs.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_BASE, address);
        iovecs.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_LEN, length);
    }
}
