package dev.keel.zerocopy.http;

import dev.keel.io.EventLoop;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * The header timeout of one loop (nginx's {@code client_header_timeout}): a request head
 * must arrive whole within a fixed time of its first byte, or the connection is answered 408
 * and closed. Against slowloris, whose clients send a header byte every few seconds and so
 * never trip the idle timeout.
 *
 * <p>Every head has the same time limit, so heads in progress are kept in a FIFO ordered by
 * their first byte: an intrusive doubly linked list through the sessions, O(1) to add and to
 * remove, no object per request and no timer per connection. One loop timer sweeps the front
 * of the list a few times per timeout while the list is not empty. A head that arrives in one
 * read (nearly all of them) never enters the list.
 */
final class HeaderDeadlines {
    /** Called on the loop thread for a session whose head did not arrive in time. */
    @FunctionalInterface
    interface Expired {
        void headerTimedOut(HttpSession s);
    }

    private final long timeoutNanos;
    private final Duration sweepPeriod;
    private final Expired expired;
    private final Runnable sweep = this::sweep;
    private EventLoop loop;
    private HttpSession first;
    private HttpSession last;
    private boolean sweepScheduled;
    private int pending;

    /** {@code timeoutNanos} 0 turns the timeout off. */
    HeaderDeadlines(long timeoutNanos, Expired expired) {
        this.timeoutNanos = timeoutNanos;
        // A head times out between 1 and 1.25 timeouts (plus a tick) after its first byte.
        this.sweepPeriod = Duration.ofNanos(Math.max(Duration.ofMillis(10).toNanos(),
                Math.min(timeoutNanos / 4, Duration.ofSeconds(1).toNanos())));
        this.expired = expired;
    }

    /** A head of {@code s} is incomplete: starts its clock unless it runs already. */
    void start(HttpSession s) {
        if (timeoutNanos == 0 || s.headTimed) {
            return;
        }
        s.headTimed = true;
        s.headStartNanos = System.nanoTime();
        s.headNext = null;
        s.headPrev = last;
        if (last != null) {
            last.headNext = s;
        } else {
            first = s;
        }
        last = s;
        pending++;
        if (!sweepScheduled) {
            loop = s.connection.loop();
            scheduleSweep();
        }
    }

    /** The head of {@code s} is complete, or the connection closes: stops its clock. */
    void stop(HttpSession s) {
        if (!s.headTimed) {
            return;
        }
        s.headTimed = false;
        if (s.headPrev != null) {
            s.headPrev.headNext = s.headNext;
        } else {
            first = s.headNext;
        }
        if (s.headNext != null) {
            s.headNext.headPrev = s.headPrev;
        } else {
            last = s.headPrev;
        }
        s.headPrev = null;
        s.headNext = null;
        pending--;
    }

    /** Heads in progress on this loop (tests). */
    int pending() {
        return pending;
    }

    private void sweep() {
        sweepScheduled = false;
        long now = System.nanoTime();
        while (first != null && now - first.headStartNanos >= timeoutNanos) {
            HttpSession s = first;
            stop(s);
            expired.headerTimedOut(s);
        }
        if (first != null) {
            scheduleSweep();
        }
    }

    /**
     * One sweep timer per loop. When the application's share of timers is full the next head
     * to start tries again; idle timeouts (the loop's own timers) still apply meanwhile.
     */
    private void scheduleSweep() {
        try {
            loop.schedule(sweepPeriod, sweep);
            sweepScheduled = true;
        } catch (RejectedExecutionException e) {
            sweepScheduled = false;
        }
    }
}
