package dev.keel.io.loop;

import java.util.Arrays;

/**
 * A hashed timing wheel: O(1) schedule and cancel, timers kept in int and long arrays with
 * intrusive doubly linked lists per wheel slot, so a timer costs no heap object. A timer is an
 * int id carrying two ints of payload (for example a connection slot and its generation, or an
 * index into the loop's task table); what firing means is up to the {@link Expiry} callback.
 * Ids are reused (last freed, first reused), so each id also carries a generation that grows
 * whenever the id is freed: a caller that keeps a timer past its firing or cancel compares
 * generations ({@code LoopTimers} builds its handles from them). Loop-confined.
 */
public final class TimingWheel {
    /** Called for each expired timer, with the payload it was scheduled with. */
    @FunctionalInterface
    public interface Expiry {
        void expired(int timerId, int kind, int a, int b);
    }

    private final long tickNanos;
    private final int mask;
    private final int[] wheelHead;
    private final int[] next;
    private final int[] prev;
    private final int[] wheelSlot;
    private final long[] deadlineTick;
    private final int[] kind;
    private final int[] a;
    private final int[] b;
    /** Grows (in 31 bits, so that a handle made of it stays positive) each time the id is freed. */
    private final int[] generation;
    private int freeHead;
    private int active;
    private long currentTick;
    private final long startNanos;

    public TimingWheel(long tickNanos, int wheelSize, int capacity, long nowNanos) {
        if (Integer.bitCount(wheelSize) != 1) {
            throw new IllegalArgumentException("wheel size must be a power of two: " + wheelSize);
        }
        this.tickNanos = tickNanos;
        this.mask = wheelSize - 1;
        this.wheelHead = new int[wheelSize];
        Arrays.fill(wheelHead, -1);
        this.next = new int[capacity];
        this.prev = new int[capacity];
        this.wheelSlot = new int[capacity];
        this.deadlineTick = new long[capacity];
        this.kind = new int[capacity];
        this.a = new int[capacity];
        this.b = new int[capacity];
        this.generation = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            next[i] = i + 1 < capacity ? i + 1 : -1;
            wheelSlot[i] = -1;
        }
        this.startNanos = nowNanos;
    }

    /** The tick {@code nowNanos} falls in. */
    public long tickOf(long nowNanos) {
        return (nowNanos - startNanos) / tickNanos;
    }

    public long tickNanos() {
        return tickNanos;
    }

    /** Schedules a timer {@code delayNanos} from now; returns its id, or -1 when all timers are in use. */
    public int schedule(long nowNanos, long delayNanos, int timerKind, int payloadA, int payloadB) {
        int id = freeHead;
        if (id < 0) {
            return -1;
        }
        freeHead = next[id];
        // The first tick boundary at or after now + delay: a timer never fires early.
        long deadline = Math.max(Math.ceilDiv(nowNanos - startNanos + Math.max(0, delayNanos), tickNanos),
                currentTick + 1);
        deadlineTick[id] = deadline;
        kind[id] = timerKind;
        a[id] = payloadA;
        b[id] = payloadB;
        int s = (int) (deadline & mask);
        wheelSlot[id] = s;
        prev[id] = -1;
        next[id] = wheelHead[s];
        if (wheelHead[s] >= 0) {
            prev[wheelHead[s]] = id;
        }
        wheelHead[s] = id;
        active++;
        return id;
    }

    /** Cancels timer {@code id}; false when it had already fired or been cancelled. */
    public boolean cancel(int id) {
        if (id < 0 || id >= wheelSlot.length || wheelSlot[id] < 0) {
            return false;
        }
        unlink(id);
        release(id);
        return true;
    }

    private void unlink(int id) {
        int s = wheelSlot[id];
        if (prev[id] >= 0) {
            next[prev[id]] = next[id];
        } else {
            wheelHead[s] = next[id];
        }
        if (next[id] >= 0) {
            prev[next[id]] = prev[id];
        }
        wheelSlot[id] = -1;
    }

    private void release(int id) {
        generation[id] = (generation[id] + 1) & Integer.MAX_VALUE;
        next[id] = freeHead;
        prev[id] = -1;
        freeHead = id;
        active--;
    }

    /** Fires every timer whose deadline is at or before {@code nowNanos}; returns how many fired. */
    public int advance(long nowNanos, Expiry expiry) {
        long target = tickOf(nowNanos);
        int fired = 0;
        while (currentTick < target && active > 0) {
            currentTick++;
            int s = (int) (currentTick & mask);
            int id = wheelHead[s];
            while (id >= 0) {
                int following = next[id];
                if (deadlineTick[id] <= currentTick) {
                    unlink(id);
                    int k = kind[id];
                    int pa = a[id];
                    int pb = b[id];
                    release(id);
                    fired++;
                    expiry.expired(id, k, pa, pb);
                    if (following >= 0 && wheelSlot[following] != s) {
                        // The callback cancelled the timer we were about to visit; start the slot over.
                        following = wheelHead[s];
                    }
                }
                id = following;
            }
        }
        if (active == 0) {
            currentTick = Math.max(currentTick, target);
        }
        return fired;
    }

    /** Nanoseconds from {@code nowNanos} to the next tick boundary, or -1 when no timer is pending. */
    public long nanosToNextTick(long nowNanos) {
        if (active == 0) {
            return -1;
        }
        long elapsed = nowNanos - startNanos;
        return tickNanos - (elapsed % tickNanos);
    }

    public int active() {
        return active;
    }

    /** Timers that can be pending at once. */
    public int capacity() {
        return generation.length;
    }

    /** The generation of id {@code id}: it changes when the timer now holding the id fires or is cancelled. */
    public int generation(int id) {
        return generation[id];
    }

    /** Whether timer {@code id} is scheduled and has neither fired nor been cancelled. */
    public boolean pending(int id) {
        return id >= 0 && id < wheelSlot.length && wheelSlot[id] >= 0;
    }
}
