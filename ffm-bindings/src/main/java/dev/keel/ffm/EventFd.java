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
    private static final MethodHandle WRITE = Downcalls.errnoHandle("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), true);
    private static final MethodHandle READ = Downcalls.errnoHandle("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), true);

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
     * when the counter would overflow on a non-blocking eventfd.
     */
    public static int write(int fd, MemorySegment scratch) {
        MemorySegment st = CallState.current();
        try {
            return (int) Downcalls.checkRetryable("eventfd write",
                    (long) WRITE.invokeExact(st, fd, scratch, 8L), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Reads the counter into the 8 bytes at {@code scratch} and resets it. Returns 8, or
     * {@code -EAGAIN} when the counter is zero on a non-blocking eventfd.
     */
    public static int read(int fd, MemorySegment scratch) {
        MemorySegment st = CallState.current();
        try {
            return (int) Downcalls.checkRetryable("eventfd read",
                    (long) READ.invokeExact(st, fd, scratch, 8L), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
