package dev.keel.io.loop;

import dev.keel.ffm.Files;
import dev.keel.ffm.EventFd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static dev.keel.ffm.gen.LinuxConstants.EFD_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EFD_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * How other threads wake a blocked loop: an eventfd the poller watches, written only while the
 * loop says it sleeps, so a busy loop costs its producers no system call. The loop announces a
 * wait ({@link #sleeping}) before checking for work one last time, and producers write the
 * eventfd only if they see the announcement (and take it back, so one write is enough).
 *
 * <p>Closing is the delicate part: a producer may be inside write(2) when the loop exits. The
 * loop marks the eventfd closed, then waits until no producer is inside before closing it, so
 * a write never lands in a reused descriptor number.
 */
public final class LoopWakeup {
    private static final VarHandle SLEEPING;
    private static final VarHandle WAKERS;
    /**
     * The 8-byte 1 that wakes a loop. Global, not in a loop's arena: a producer may still be
     * inside write(2) on it when the woken loop frees its arena and exits.
     */
    private static final MemorySegment WAKE_VALUE = Arena.global().allocate(JAVA_LONG);

    static {
        WAKE_VALUE.set(JAVA_LONG, 0, 1L);
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(LoopWakeup.class, "sleeping", int.class);
            WAKERS = MethodHandles.lookup().findVarHandle(LoopWakeup.class, "wakers", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Cross-thread: producers read it to decide whether to write the eventfd. Padding is
    // not worth it here: the field is written twice per blocking pass, not per message.
    @SuppressWarnings("unused")
    private volatile int sleeping;
    /** Producers inside {@link #wake}: the eventfd is closed only once none is. */
    @SuppressWarnings("unused")
    private volatile int wakers;
    private volatile boolean closed;
    private volatile int fd = -1;

    /** A wakeup with no eventfd yet (made by {@link #open} on the loop thread); allocates nothing. */
    public LoopWakeup() {
    }

    /** Makes the eventfd (on the loop thread, at set-up); the poller watches it. */
    public int open() {
        fd = EventFd.create(0, EFD_NONBLOCK | EFD_CLOEXEC);
        return fd;
    }

    /** Whether the eventfd exists yet: before set-up there is nothing to wake. */
    public boolean isOpen() {
        return fd >= 0;
    }

    /** Whether the loop announced a wait: a producer on another thread must then wake it. */
    public boolean loopSleeps() {
        return (int) SLEEPING.getVolatile(this) == 1;
    }

    /**
     * Writes the eventfd if the loop sleeps and no other producer did already. The count of
     * producers in here lets {@link #close} wait for them.
     */
    public void wake() {
        WAKERS.getAndAdd(this, 1);
        try {
            if (!closed && SLEEPING.compareAndSet(this, 1, 0)) {
                EventFd.write(fd, WAKE_VALUE);
            }
        } finally {
            WAKERS.getAndAdd(this, -1);
        }
    }

    /** The loop is about to block: producers write the eventfd from now on. */
    public void sleeping() {
        SLEEPING.setVolatile(this, 1);
    }

    /** The loop is running again. */
    public void awake() {
        SLEEPING.setVolatile(this, 0);
    }

    /** Closes the eventfd once no producer is inside {@link #wake}; loop thread, at exit. */
    public void close() {
        // Dekker with wake(): producers count themselves in, then read closed.
        closed = true;
        while ((int) WAKERS.getVolatile(this) != 0) {
            Thread.onSpinWait();
        }
        Files.closeQuietly(fd);
    }
}
