package dev.keel.io;

import dev.keel.io.loop.TimingWheel;
import java.util.concurrent.RejectedExecutionException;

/**
 * A loop's timers, on one {@link TimingWheel}, in two shares of fixed size: the loop's own
 * (one idle check per connection slot, one retry of a paused accept) and the application's
 * ({@link EventLoop#schedule}, at most {@link LoopOptions.Builder#maxTimers}). The wheel holds
 * both shares, so the loop's timers always find room, however many the application keeps;
 * the application is refused loudly (RejectedExecutionException) when its own share is used.
 *
 * <p>Application timers are named by a handle, {@code generation << 32 | id}: an id is reused
 * once its timer fired or was cancelled, and the generation tells an old handle from the
 * timer that holds the id now, so cancelling with a stale handle cancels nothing. The loop's
 * own timers are named by their bare ids, which the loop forgets as soon as they fire or are
 * cancelled. Loop-confined.
 */
final class LoopTimers {
    static final int KIND_IDLE = 1;
    static final int KIND_TASK = 2;
    static final int KIND_ACCEPT_RESUME = 3;
    static final int KIND_CONNECT_TIMEOUT = 4;
    static final int KIND_PERIODIC = 5;

    private final TimingWheel wheel;
    private final Runnable[] tasks;
    private final int applicationCapacity;
    private final int internalCapacity;
    private int applicationActive;
    /** Periodic tasks, in the application's share; their handles' ids start at the wheel's capacity. */
    private final PeriodicTasks periodic;

    /**
     * @param internalCapacity    the loop's own timers pending at most (its connection slots + 1)
     * @param applicationCapacity the application's timers pending at most
     */
    LoopTimers(long tickNanos, int wheelSize, int internalCapacity, int applicationCapacity, long nowNanos) {
        this.internalCapacity = internalCapacity;
        this.applicationCapacity = applicationCapacity;
        int capacity = Math.addExact(internalCapacity, applicationCapacity);
        this.wheel = new TimingWheel(tickNanos, wheelSize, capacity, nowNanos);
        this.tasks = new Runnable[capacity];
        this.periodic = new PeriodicTasks(applicationCapacity);
    }

    // ---------------------------------------------------------------- the application's

    /**
     * Schedules {@code task} {@code delayNanos} from {@code nowNanos}; returns its handle (never
     * negative).
     *
     * @throws RejectedExecutionException when the application's share is in use
     */
    long scheduleTask(long nowNanos, long delayNanos, Runnable task) {
        if (applicationActive >= applicationCapacity) {
            throw new RejectedExecutionException("no room for another timer: the application has "
                    + applicationActive + " pending, as many as LoopOptions.maxTimers allows");
        }
        int id = wheel.schedule(nowNanos, delayNanos, KIND_TASK, 0, 0);
        if (id < 0) {
            throw new IllegalStateException("timing wheel full with " + applicationActive
                    + " application timers: its shares are miscounted");
        }
        applicationActive++;
        tasks[id] = task;
        return ((long) wheel.generation(id) << 32) | id;
    }

    /**
     * Schedules {@code task} to run first after {@code initialNanos}, then every {@code periodNanos}:
     * at fixed rate (deadlines on the grid start + k * period, whatever each run took; a deadline
     * already past when the previous run ends is skipped, not run in a burst) or with fixed
     * delay (the next deadline a period after the previous run ended). Returns its handle; it
     * holds one place of the application's share until cancelled.
     */
    long schedulePeriodic(long nowNanos, long initialNanos, long periodNanos, boolean fixedRate, Runnable task) {
        if (applicationActive >= applicationCapacity) {
            throw new RejectedExecutionException("no room for another timer: the application has "
                    + applicationActive + " pending, as many as LoopOptions.maxTimers allows");
        }
        int index = periodic.add(task, periodNanos, fixedRate, nowNanos + Math.max(0, initialNanos));
        arm(index, nowNanos);
        applicationActive++;
        return ((long) periodic.generation(index) << 32) | (tasks.length + index);
    }

    private void arm(int index, long nowNanos) {
        int id = wheel.schedule(nowNanos, periodic.deadline(index) - nowNanos, KIND_PERIODIC, index,
                periodic.generation(index));
        if (id < 0) {
            throw new IllegalStateException("timing wheel full: its shares are miscounted");
        }
        periodic.armed(index, id);
    }

    /**
     * The timer of periodic task {@code index} of {@code generation} fired: runs the task (a
     * throw goes to {@code failure}), then arms its next deadline unless it was cancelled meanwhile.
     */
    void runPeriodic(int index, int generation, long passNanos, LoopTasks.Failure failure) {
        Runnable task = periodic.due(index, generation);
        if (task == null) {
            return;
        }
        try {
            task.run();
        } catch (Throwable t) {
            failure.failed(t);
        }
        if (periodic.next(index, generation, System.nanoTime())) {
            arm(index, passNanos);
        }
    }

    /** The next deadline (System.nanoTime) of the periodic task {@code handle} names, or -1 (tests). */
    long periodicDeadline(long handle) {
        int index = (int) handle - tasks.length;
        return index < 0 || !periodic.live(index, (int) (handle >>> 32)) ? -1 : periodic.deadline(index);
    }

    /** Cancels the application timer {@code handle} names; false when it ran, was cancelled, or is unknown. */
    boolean cancelTask(long handle) {
        int id = (int) handle;
        int generation = (int) (handle >>> 32);
        if (handle >= 0 && id >= tasks.length) {
            int index = id - tasks.length;
            int wheelId = periodic.cancel(index, generation);
            if (wheelId == PeriodicTasks.UNKNOWN) {
                return false;
            }
            if (wheelId >= 0) {
                wheel.cancel(wheelId);
            }
            applicationActive--;
            return true;
        }
        if (handle < 0 || id < 0 || id >= tasks.length || tasks[id] == null || wheel.generation(id) != generation
                || !wheel.pending(id)) {
            return false;
        }
        wheel.cancel(id);
        tasks[id] = null;
        applicationActive--;
        return true;
    }

    /** The task of application timer {@code id}, which just fired; its place is free from now on. */
    Runnable takeTask(int id) {
        Runnable task = tasks[id];
        tasks[id] = null;
        applicationActive--;
        return task;
    }

    // ---------------------------------------------------------------- the loop's own

    /**
     * Schedules one of the loop's own timers ({@link #KIND_IDLE}, {@link #KIND_ACCEPT_RESUME});
     * returns its id. Their share has room for every one the loop can have pending, so running
     * out is a bug in the loop, and says so.
     */
    int scheduleInternal(long nowNanos, long delayNanos, int kind, int a, int b) {
        int id = wheel.schedule(nowNanos, delayNanos, kind, a, b);
        if (id < 0) {
            throw new IllegalStateException("timing wheel full: more than " + internalCapacity
                    + " of the loop's own timers pending, which its connection table cannot explain");
        }
        return id;
    }

    /** Cancels one of the loop's own timers by its id; false when it had fired or been cancelled. */
    boolean cancelInternal(int id) {
        return wheel.cancel(id);
    }

    // ---------------------------------------------------------------- the wheel

    /** Fires every timer due at {@code nowNanos}; returns how many fired. */
    int advance(long nowNanos, TimingWheel.Expiry expiry) {
        return wheel.advance(nowNanos, expiry);
    }

    long tickOf(long nowNanos) {
        return wheel.tickOf(nowNanos);
    }

    long nanosToNextTick(long nowNanos) {
        return wheel.nanosToNextTick(nowNanos);
    }

    /** Timers pending now, the loop's and the application's. */
    int pending() {
        return wheel.active();
    }

    /** Application timers pending now. */
    int applicationTimers() {
        return applicationActive;
    }
}
