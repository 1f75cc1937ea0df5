package dev.keel.io;

import org.jctools.queues.varhandle.MpscUnboundedVarHandleArrayQueue;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The task queue of a loop: any thread offers, the loop thread runs. A task {@link #offer}
 * takes is run, whatever happens to the loop afterwards; once the loop terminates, offers are
 * refused with RejectedExecutionException. Nothing in between: no task is taken and then
 * dropped.
 *
 * <p>How, without a lock: an offer announces itself ({@code offering}), checks that the queue
 * is still open, enqueues, and withdraws the announcement. The loop, terminating, first closes
 * the queue, then waits until no offer is under way (an offer that saw the queue open has
 * enqueued by then, or will see it closed), then runs what is left. Announcing costs an
 * atomic increment and decrement per offer, off the loop's own path.
 *
 * <p>Capacity: the queue is unbounded (JCTools MPSC linked array chunks of 256), so offering
 * never blocks a producer; a loop runs at most {@code maxTasksPerPass} of them per pass.
 */
final class LoopTasks {
    private final MpscUnboundedVarHandleArrayQueue<Runnable> queue = new MpscUnboundedVarHandleArrayQueue<>(256);
    private final AtomicInteger offering = new AtomicInteger();
    private volatile boolean closed;

    /** Receives a task that threw. */
    @FunctionalInterface
    interface Failure {
        void failed(Throwable t);
    }

    /**
     * Takes {@code task} for the loop thread, or refuses it.
     *
     * @throws RejectedExecutionException once the loop has terminated
     */
    void offer(Runnable task, int loop) {
        offering.incrementAndGet();
        try {
            if (closed) {
                throw new RejectedExecutionException("event loop " + loop + " has terminated");
            }
            queue.offer(task);
        } finally {
            offering.decrementAndGet();
        }
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Runs up to {@code max} queued tasks on the calling (loop) thread; returns how many ran. */
    int run(int max, Failure failure) {
        int ran = 0;
        Runnable task;
        while (ran < max && (task = queue.relaxedPoll()) != null) {
            ran++;
            runOne(task, failure);
        }
        return ran;
    }

    /**
     * The loop terminates: refuses further offers, waits for offers under way to enqueue, and
     * runs every task taken, including those the last tasks queue. Returns how many ran.
     */
    int closeAndRunRemaining(Failure failure) {
        closed = true;
        while (offering.get() != 0) {
            Thread.onSpinWait(); // an offer that saw the queue open is one enqueue away
        }
        int ran = 0;
        Runnable task;
        while ((task = queue.poll()) != null) {
            ran++;
            runOne(task, failure);
        }
        return ran;
    }

    private static void runOne(Runnable task, Failure failure) {
        try {
            task.run();
        } catch (Throwable t) {
            failure.failed(t);
        }
    }
}
