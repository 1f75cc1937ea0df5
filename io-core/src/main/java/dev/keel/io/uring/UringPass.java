package dev.keel.io.uring;

import dev.keel.io.loop.PollerHost;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.gen.Errno;

import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_DEFER_TASKRUN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQPOLL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_CQ_OVERFLOW;

/**
 * The ring side of a loop pass: SQEs reserved as the pass goes (the queue submitted early only
 * when full), then one io_uring_enter that submits them and, when the loop may block, waits for
 * a completion, then every completion handled in a batch, overflowed ones included.
 *
 * <p>Every io_uring_enter result is looked at: EBUSY and EAGAIN (no room in the kernel for
 * more completions or requests) are counted with the completion overflows and answered by the
 * pass's reaping; EINTR and ETIME end a wait early, which the next pass simply repeats; other
 * failures throw from the binding. Reaping is never started from within a submission (an SQE
 * is often reserved from a completion handler, and a handler run there could close the very
 * connection the SQE is for), so an SQ that stays full is a loud IllegalStateException.
 * Room in the SQ is made by submitting, and under SQPOLL — whose kernel thread frees entries
 * on its own time — by waiting for the thread (IORING_ENTER_SQ_WAIT), so that SQEs that must
 * share one submission (a hard-linked cancel and close) are never split across two.
 */
final class UringPass {
    /** Rounds of reaping per pass: completions posted while handling, and overflowed ones. */
    private static final int REAP_ROUNDS = 4;
    private static final long NANOS_PER_MILLI = 1_000_000L;
    /**
     * Submissions tried for room in the SQ before it is declared stuck: each one frees entries
     * (the kernel consumed them, or the SQPOLL thread did while we waited) unless the kernel
     * refused it (EAGAIN: out of memory for requests).
     */
    private static final int SQ_FULL_TRIES = 1_000;

    private final IoUringRing ring;
    private final IoUringRing.CompletionHandler handler;
    private final PollerHost loop;
    private final boolean deferTaskrun;
    private final boolean sqPoll;
    private final UringStats stats;

    UringPass(IoUringRing ring, IoUringRing.CompletionHandler handler, PollerHost loop, UringStats stats) {
        this.ring = ring;
        this.handler = handler;
        this.loop = loop;
        this.stats = stats;
        this.deferTaskrun = (ring.setupFlags() & IORING_SETUP_DEFER_TASKRUN) != 0;
        this.sqPoll = (ring.setupFlags() & IORING_SETUP_SQPOLL) != 0;
    }

    /** Reserves an SQE, making room first when the SQ is full. */
    int sqe() {
        int s = ring.nextSqe();
        if (s < 0) {
            makeRoom(1);
            s = ring.nextSqe();
        }
        return s;
    }

    /**
     * Makes room for {@code n} SQEs that must go in one submission (a linked chain): when this
     * returns, the next {@code n} {@link #sqe} calls submit nothing.
     */
    void reserve(int n) {
        if (ring.sqSpaceLeft() < n) {
            makeRoom(n);
        }
    }

    private void makeRoom(int n) {
        for (int tries = 0; ring.sqSpaceLeft() < n; tries++) {
            if (tries == SQ_FULL_TRIES) {
                throw new IllegalStateException("io_uring submission queue stays full: " + ring.sqSpaceLeft()
                        + " of " + ring.sqEntries() + " entries free after " + tries + " submissions");
            }
            loop.countSyscalls(1);
            if (refused(sqPoll ? ring.submitAndAwaitSqSpace() : ring.submit())) {
                Thread.onSpinWait();
            }
        }
    }

    /**
     * Submits without waiting. Under DEFER_TASKRUN completions are posted only while this thread
     * is in io_uring_enter with GETEVENTS, so it enters with that (and min_complete 0); under
     * SQPOLL a submit makes no system call while the kernel thread is awake.
     */
    void enterWithoutWaiting() {
        if (deferTaskrun) {
            refused(ring.submitAndWait(0));
            loop.countSyscalls(1);
        } else {
            int r = ring.submit();
            if (r != 0) {
                // Nothing to submit makes no system call (0); under SQPOLL a submit usually makes
                // none either, so there the count is an upper bound.
                loop.countSyscalls(1);
            }
            refused(r);
        }
    }

    /** Submits and waits for one completion, up to {@code timeoutMillis} (-1: no limit). */
    void enterAndWait(int timeoutMillis) {
        loop.countSyscalls(1);
        stats.waited(ring.waitsWithoutIowait(), timeoutMillis >= 0 && ring.waitsThroughRegion());
        if (timeoutMillis < 0) {
            refused(ring.submitAndWait(1));
        } else {
            refused(ring.submitAndWait(1, timeoutMillis * NANOS_PER_MILLI));
        }
    }

    /**
     * Reads an io_uring_enter result: true, counted, when the kernel refused for want of room
     * (EBUSY: overflowed completions it cannot flush into the CQ; EAGAIN: no memory for
     * requests), which reaping answers. A count, -EINTR or -ETIME needs nothing: SQEs not
     * consumed stay queued for the next enter, and the pass reaps what is ready either way.
     */
    private boolean refused(int result) {
        if (result == -Errno.EBUSY || result == -Errno.EAGAIN) {
            loop.completionsOverflowed();
            return true;
        }
        return false;
    }

    /** Whether completions are ready to reap. */
    boolean ready() {
        return ring.cqReady() > 0;
    }

    /**
     * Handles every completion ready, bringing in overflowed ones (kept by the kernel when the
     * CQ was full, IORING_FEAT_NODROP) and task-work ones (COOP_TASKRUN) as it goes.
     */
    int reap() {
        int n = 0;
        for (int round = 0; round < REAP_ROUNDS; round++) {
            n += ring.forEachCompletion(handler);
            if (ring.cqNeedsFlush()) {
                if ((ring.sqFlags() & IORING_SQ_CQ_OVERFLOW) != 0) {
                    loop.completionsOverflowed();
                }
                refused(ring.flushCompletions());
                loop.countSyscalls(1);
            } else if (ring.cqReady() == 0) {
                break;
            }
        }
        return n;
    }
}
