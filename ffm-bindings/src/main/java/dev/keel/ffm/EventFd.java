package dev.keel.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * eventfd(2): a kernel counter a loop can poll, used to wake a reactor from another thread.
 *
 * <pre>{@code int eventfd(unsigned int initval, int flags);}</pre>
 * The counter is read and written as an 8-byte value with read(2)/write(2).
 */
public final class EventFd {
    private static final MethodHandle EVENTFD = Downcalls.errnoHandle("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), true);
    private static final FunctionDescriptor IO = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    // Wake-ups happen per task handed to a loop: no errno capture on the way (see Downcalls).
    private static final MethodHandle WRITE = Downcalls.plainHandle("write", IO, true);
    private static final MethodHandle READ = Downcalls.plainHandle("read", IO, true);
    private static final MethodHandle WRITE_ERRNO = Downcalls.errnoHandle("write", IO, true);
    private static final MethodHandle READ_ERRNO = Downcalls.errnoHandle("read", IO, true);

    private EventFd() {
    }

    /** Creates an eventfd with {@code flags} (EFD_NONBLOCK, EFD_CLOEXEC, EFD_SEMAPHORE). */
    public static int create(int initialValue, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("eventfd", (int) EVENTFD.invokeExact(st, initialValue, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Adds the 8-byte value at {@code scratch} to the counter. Returns 8, or {@code -EAGAIN}
     * when the counter would overflow on a non-blocking eventfd. Without errno capture on the
     * way: a failed write is made again with errno captured, which names the failure if it
     * recurs (the counter still full) or adds the value if it passed.
     */
    public static int write(int fd, MemorySegment scratch) {
        try {
            long r = (long) WRITE.invokeExact(fd, scratch, 8L);
            if (r >= 0) {
                return (int) r;
            }
            MemorySegment st = CallState.current();
            return (int) Downcalls.checkRetryable("eventfd write", (long) WRITE_ERRNO.invokeExact(st, fd, scratch, 8L),
                    st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Reads the counter into the 8 bytes at {@code scratch} and resets it. Returns 8, or
     * {@code -EAGAIN} when the counter is zero on a non-blocking eventfd. Without errno capture
     * on the way, like {@link #write}: a failed read is made again with errno captured.
     */
    public static int read(int fd, MemorySegment scratch) {
        try {
            long r = (long) READ.invokeExact(fd, scratch, 8L);
            if (r >= 0) {
                return (int) r;
            }
            MemorySegment st = CallState.current();
            return (int) Downcalls.checkRetryable("eventfd read", (long) READ_ERRNO.invokeExact(st, fd, scratch, 8L),
                    st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
