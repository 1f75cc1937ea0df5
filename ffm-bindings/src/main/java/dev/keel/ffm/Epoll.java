package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.EpollEvent;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * epoll(7): readiness notification for many descriptors.
 *
 * <pre>{@code
 * int epoll_create1(int flags);
 * int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
 * int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
 * struct epoll_event { uint32_t events; epoll_data_t data; } __attribute__((packed)); // x86-64
 * }</pre>
 * The event array is a caller-owned segment of {@code n * EpollEvent.SIZE} bytes read with
 * {@link #events} and {@link #data}; the struct is packed on x86-64, so fields are unaligned.
 */
public final class Epoll {
    private static final MethodHandle CREATE1 = Downcalls.errnoHandle("epoll_create1",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), true);
    private static final MethodHandle CTL = Downcalls.errnoHandle("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), true);
    private static final MethodHandle WAIT = Downcalls.errnoHandle("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), false);
    // A zero-timeout poll never blocks, so the busy-poll path may skip the thread-state transition.
    private static final MethodHandle WAIT_NOW = Downcalls.errnoHandle("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), true);

    private Epoll() {
    }

    /** A new epoll instance; {@code flags} is 0 or EPOLL_CLOEXEC. */
    public static int create(int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("epoll_create1", (int) CREATE1.invokeExact(st, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** epoll_ctl with {@code op} EPOLL_CTL_ADD/MOD/DEL, interest {@code events} and a 64-bit {@code data}. */
    public static void ctl(int epfd, int op, int fd, int events, long data) {
        MemorySegment st = CallState.current();
        MemorySegment ev = CallState.scratch();
        ev.set(JAVA_INT_UNALIGNED, EpollEvent.EVENTS, events);
        ev.set(JAVA_LONG_UNALIGNED, EpollEvent.DATA, data);
        try {
            Downcalls.check("epoll_ctl", (int) CTL.invokeExact(st, epfd, op, fd, ev), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1 forever, 0 not at all) for events into {@code events}.
     * Returns the number of ready events, or {@code -EINTR} when a signal interrupted the wait.
     */
    public static int wait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        MemorySegment st = CallState.current();
        try {
            int r = timeoutMillis == 0
                    ? (int) WAIT_NOW.invokeExact(st, epfd, events, maxEvents, 0)
                    : (int) WAIT.invokeExact(st, epfd, events, maxEvents, timeoutMillis);
            return Downcalls.checkRetryable("epoll_wait", r, st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Bytes needed for an array of {@code n} events. */
    public static long eventArraySize(int n) {
        return n * EpollEvent.SIZE;
    }

    /** The ready-event mask of event {@code i}. */
    public static int events(MemorySegment array, int i) {
        return array.get(JAVA_INT_UNALIGNED, i * EpollEvent.SIZE + EpollEvent.EVENTS);
    }

    /** The user data of event {@code i}. */
    public static long data(MemorySegment array, int i) {
        return array.get(JAVA_LONG_UNALIGNED, i * EpollEvent.SIZE + EpollEvent.DATA);
    }
}
