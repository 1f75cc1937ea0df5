package dev.keel.io;

import java.util.Arrays;

/**
 * The periodic tasks of a loop ({@link EventLoop#scheduleAtFixedRate},
 * {@link EventLoop#scheduleWithFixedDelay}): a fixed table of entries in parallel arrays, each
 * with its task, period, next deadline and the wheel timer that fires it. An entry keeps one
 * index for its life, so its handle stays valid across firings; a generation, grown whenever
 * the entry is freed, tells a stale handle from the entry's next user. Loop-confined.
 */
final class PeriodicTasks {
    /** {@link #cancel}: the handle names no live entry. */
    static final int UNKNOWN = -2;

    private final Runnable[] task;
    private final long[] period;
    private final long[] deadline;
    private final boolean[] fixedRate;
    private final int[] wheelId;
    private final int[] generation;
    private final int[] nextFree;
    private int freeHead;

    PeriodicTasks(int capacity) {
        task = new Runnable[capacity];
        period = new long[capacity];
        deadline = new long[capacity];
        fixedRate = new boolean[capacity];
        wheelId = new int[capacity];
        generation = new int[capacity];
        nextFree = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            nextFree[i] = i + 1 < capacity ? i + 1 : -1;
        }
        Arrays.fill(wheelId, -1);
        freeHead = capacity == 0 ? -1 : 0;
    }

    /** A new entry (the caller checked the share has room); returns its index. */
    int add(Runnable r, long periodNanos, boolean rate, long firstDeadline) {
        int i = freeHead;
        if (i < 0) {
            throw new IllegalStateException("periodic task table full: its share is miscounted");
        }
        freeHead = nextFree[i];
        task[i] = r;
        period[i] = periodNanos;
        fixedRate[i] = rate;
        deadline[i] = firstDeadline;
        return i;
    }

    int generation(int i) {
        return generation[i];
    }

    long deadline(int i) {
        return deadline[i];
    }

    boolean live(int i, int gen) {
        return i >= 0 && i < task.length && task[i] != null && generation[i] == gen;
    }

    void armed(int i, int id) {
        wheelId[i] = id;
    }

    /** The entry's timer fired: its task, or null when the entry is gone. */
    Runnable due(int i, int gen) {
        if (!live(i, gen)) {
            return null;
        }
        wheelId[i] = -1;
        return task[i];
    }

    /** After a run: computes the next deadline; false when the entry was cancelled meanwhile. */
    boolean next(int i, int gen, long endNanos) {
        if (!live(i, gen)) {
            return false;
        }
        if (fixedRate[i]) {
            long next = deadline[i] + period[i];
            if (next - endNanos <= 0) {
                // Runs were missed (a long run, a stalled loop): back on the grid, past the present.
                long behind = endNanos - next;
                next += (behind / period[i] + 1) * period[i];
            }
            deadline[i] = next;
        } else {
            deadline[i] = endNanos + period[i];
        }
        return true;
    }

    /** Frees the entry; returns its pending wheel timer (-1 when it is running now), or UNKNOWN. */
    int cancel(int i, int gen) {
        if (!live(i, gen)) {
            return UNKNOWN;
        }
        int id = wheelId[i];
        task[i] = null;
        wheelId[i] = -1;
        generation[i] = (generation[i] + 1) & Integer.MAX_VALUE;
        nextFree[i] = freeHead;
        freeHead = i;
        return id;
    }
}
