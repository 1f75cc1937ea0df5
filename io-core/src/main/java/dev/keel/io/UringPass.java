package dev.keel.io;

import dev.keel.ffm.IoUringRing;

import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_DEFER_TASKRUN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_CQ_OVERFLOW;

/**
 * The ring side of a loop pass: SQEs reserved as the pass goes (the queue submitted early only
 * when full), then one io_uring_enter that submits them and, when the loop may block, waits for
 * a completion, then every completion handled in a batch, overflowed ones included.
 */
final class UringPass {
    /** Rounds of reaping per pass: completions posted while handling, and overflowed ones. */
    private static final int REAP_ROUNDS = 4;
    private static final long NANOS_PER_MILLI = 1_000_000L;
    /** SQ-full retries before giving up; an SQPOLL thread frees entries asynchronously. */
    private static final int SQ_FULL_TRIES = 1_000_000;

    private final IoUringRing ring;
    private final IoUringRing.CompletionHandler handler;
    private final LoopStats stats;
    private final boolean deferTaskrun;

    UringPass(IoUringRing ring, IoUringRing.CompletionHandler handler, LoopStats stats) {
        this.ring = ring;
        this.handler = handler;
        this.stats = stats;
        this.deferTaskrun = (ring.setupFlags() & IORING_SETUP_DEFER_TASKRUN) != 0;
    }

    /** Reserves an SQE, submitting what is queued when the SQ is full. */
    int sqe() {
        int s = ring.nextSqe();
        for (int tries = 0; s < 0; tries++) {
            if (tries > SQ_FULL_TRIES) {
                throw new IllegalStateException("io_uring submission queue stays full");
            }
            ring.submit();
            stats.syscalls++;
            s = ring.nextSqe();
            if (s < 0) {
                Thread.onSpinWait();
            }
        }
        return s;
    }

    /** Makes room for {@code n} SQEs that must go in one submission (a linked chain). */
    void reserve(int n) {
        if (ring.sqSpaceLeft() < n) {
            ring.submit();
            stats.syscalls++;
        }
    }

    /**
     * Submits without waiting. Under DEFER_TASKRUN completions are posted only while this thread
     * is in io_uring_enter with GETEVENTS, so it enters with that (and min_complete 0); under
     * SQPOLL a submit makes no system call while the kernel thread is awake.
     */
    void enterWithoutWaiting() {
        if (deferTaskrun) {
            ring.submitAndWait(0);
            stats.syscalls++;
        } else if (ring.submit() != 0) {
            // Nothing to submit makes no system call (0); under SQPOLL a submit usually makes
            // none either, so there the count is an upper bound.
            stats.syscalls++;
        }
    }

    /** Submits and waits for one completion, up to {@code timeoutMillis} (-1: no limit). */
    void enterAndWait(int timeoutMillis) {
        stats.syscalls++;
        if (timeoutMillis < 0) {
            ring.submitAndWait(1);
        } else {
            ring.submitAndWait(1, timeoutMillis * NANOS_PER_MILLI);
        }
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
                    stats.completionOverflows++;
                }
                ring.flushCompletions();
                stats.syscalls++;
            } else if (ring.cqReady() == 0) {
                break;
            }
        }
        return n;
    }
}
