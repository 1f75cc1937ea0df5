package dev.keel.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one loop of {@code keel load} measures: a latency histogram of its own
 * ({@link LatencyHistogram}: nanoseconds, three significant digits, recorded only on the loop
 * thread and read after the loop stopped), the bytes it checked, and its flows (TCP connections
 * or UDP endpoints), which the fixed-rate pacer and the UDP loss check walk. Failures,
 * opens/closes and UDP losses are counted across loops.
 */
final class LoadLoop {
    private final LatencyHistogram histogram = new LatencyHistogram();
    private final List<LoadFlow> flows = new ArrayList<>();
    private final Shared shared;
    private long bytesChecked;
    private boolean measuring = true;

    /** Counters all loops share. */
    static final class Shared {
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger connectFailed = new AtomicInteger();

        /** Connections that are done: closed after opening, or never opened. */
        int finished() {
            return closed.get() + connectFailed.get();
        }
        final AtomicLong errors = new AtomicLong();
        final AtomicReference<String> firstError = new AtomicReference<>();
        /** UDP: datagrams given up on (no echo within the loss timeout), echoes that came after, sends refused. */
        final AtomicLong lost = new AtomicLong();
        final AtomicLong late = new AtomicLong();
        final AtomicLong dropped = new AtomicLong();
    }

    LoadLoop(Shared shared) {
        this.shared = shared;
    }

    void opened(LoadFlow c) {
        flows.add(c);
        shared.opened.incrementAndGet();
    }

    void closed(LoadFlow c) {
        shared.closed.incrementAndGet();
    }

    void connectFailed(String why) {
        shared.connectFailed.incrementAndGet();
        failed(why);
    }

    void failed(String why) {
        shared.errors.incrementAndGet();
        shared.firstError.compareAndSet(null, why);
    }

    void lost(long n) {
        shared.lost.addAndGet(n);
    }

    void late() {
        shared.late.incrementAndGet();
    }

    void dropped(int n) {
        shared.dropped.addAndGet(n);
    }

    void record(long nanos) {
        if (measuring) {
            histogram.record(nanos);
        }
    }

    void bytesChecked(long n) {
        bytesChecked += n;
    }

    /** Loop thread: the run starts. */
    void start(long startNanos) {
        for (LoadFlow c : flows) {
            c.start(startNanos);
        }
    }

    /** Loop thread, the pacer's tick: each connection sends what is due. */
    void pace() {
        long now = System.nanoTime();
        for (int i = 0; i < flows.size(); i++) {
            flows.get(i).pace(now);
        }
    }

    /** Loop thread, the UDP loss check: each UDP flow gives up on datagrams unanswered too long. */
    void expire() {
        long now = System.nanoTime();
        for (int i = 0; i < flows.size(); i++) {
            if (flows.get(i) instanceof UdpLoadFlow f) {
                f.expire(now);
            }
        }
    }

    /** Loop thread: the run is over; answers still coming are checked but not measured. */
    void stop() {
        measuring = false;
        for (LoadFlow c : flows) {
            c.stop();
        }
    }

    /** After the loop stopped. */
    LatencyHistogram histogram() {
        return histogram;
    }

    /** After the loop stopped. */
    long bytesChecked() {
        return bytesChecked;
    }
}
