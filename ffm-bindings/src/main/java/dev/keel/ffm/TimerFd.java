package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.Itimerspec;
import dev.keel.ffm.gen.LinuxLayouts.Timespec;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * timerfd(2): a timer delivered as a readable descriptor, so a reactor waits for timeouts in
 * the same epoll or io_uring call as for I/O.
 *
 * <pre>{@code
 * int timerfd_create(int clockid, int flags);
 * int timerfd_settime(int fd, int flags, const struct itimerspec *new_value, struct itimerspec *old_value);
 * int timerfd_gettime(int fd, struct itimerspec *curr_value);
 * }</pre>
 * A read(2) of 8 bytes returns the number of expirations since the last read and resets it.
 * {@code struct itimerspec} segments come from {@link #newItimerspec} and are filled with
 * {@link #itimerspec}; times are nanoseconds here and split into {@code timespec} fields.
 */
public final class TimerFd {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private static final MethodHandle CREATE = Downcalls.errnoHandle("timerfd_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), true);
    private static final MethodHandle SETTIME = Downcalls.errnoHandle("timerfd_settime",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle GETTIME = Downcalls.errnoHandle("timerfd_gettime",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), true);
    // A blocking timerfd sleeps in read until it expires: not critical.
    private static final MethodHandle READ = Downcalls.errnoHandle("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), false);

    private TimerFd() {
    }

    /** Creates a disarmed timer on {@code clockId} (CLOCK_MONOTONIC, ...) with {@code flags} (TFD_NONBLOCK, TFD_CLOEXEC). */
    public static int create(int clockId, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("timerfd_create", (int) CREATE.invokeExact(st, clockId, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Arms (or, with a zero initial value, disarms) the timer from {@code newValue}; with
     * TFD_TIMER_ABSTIME in {@code flags} the initial value is an absolute time on the timer's
     * clock. The previous setting goes to {@code oldValue} unless it is {@link MemorySegment#NULL}.
     */
    public static void setTime(int fd, int flags, MemorySegment newValue, MemorySegment oldValue) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("timerfd_settime", (int) SETTIME.invokeExact(st, fd, flags, newValue, oldValue), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Writes the time left until the next expiry and the interval into {@code currValue}. */
    public static void getTime(int fd, MemorySegment currValue) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("timerfd_gettime", (int) GETTIME.invokeExact(st, fd, currValue), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Reads the expiration count into the 8 bytes of {@code scratch} and returns it (at least
     * 1); a blocking timer waits for the next expiry. Returns {@code -EAGAIN} when a
     * TFD_NONBLOCK timer has not expired since the last read, or {@code -EINTR}.
     */
    public static long read(int fd, MemorySegment scratch) {
        MemorySegment st = CallState.current();
        try {
            long r = Downcalls.checkRetryable("timerfd read", (long) READ.invokeExact(st, fd, scratch, 8L), st);
            return r < 0 ? r : scratch.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** A zeroed, aligned segment for a {@code struct itimerspec}. */
    public static MemorySegment newItimerspec(SegmentAllocator allocator) {
        return allocator.allocate(Itimerspec.SIZE, Itimerspec.ALIGNMENT);
    }

    /**
     * Fills {@code spec}: first expiry after {@code initialNanos} (0 disarms), then every
     * {@code intervalNanos} (0 for a one-shot timer). Returns {@code spec}.
     */
    public static MemorySegment itimerspec(MemorySegment spec, long initialNanos, long intervalNanos) {
        if (initialNanos < 0 || intervalNanos < 0) {
            throw new IllegalArgumentException("negative timer: " + initialNanos + " ns, every " + intervalNanos + " ns");
        }
        putTimespec(spec, Itimerspec.IT_VALUE, initialNanos);
        putTimespec(spec, Itimerspec.IT_INTERVAL, intervalNanos);
        return spec;
    }

    /** The {@code it_value} of {@code spec} in nanoseconds: after gettime, the time left (0 = disarmed). */
    public static long valueNanos(MemorySegment spec) {
        return getTimespec(spec, Itimerspec.IT_VALUE);
    }

    /** The {@code it_interval} of {@code spec} in nanoseconds. */
    public static long intervalNanos(MemorySegment spec) {
        return getTimespec(spec, Itimerspec.IT_INTERVAL);
    }

    private static void putTimespec(MemorySegment spec, long at, long nanos) {
        spec.set(JAVA_LONG, at + Timespec.TV_SEC, nanos / NANOS_PER_SECOND);
        spec.set(JAVA_LONG, at + Timespec.TV_NSEC, nanos % NANOS_PER_SECOND);
    }

    private static long getTimespec(MemorySegment spec, long at) {
        return spec.get(JAVA_LONG, at + Timespec.TV_SEC) * NANOS_PER_SECOND + spec.get(JAVA_LONG, at + Timespec.TV_NSEC);
    }
}
