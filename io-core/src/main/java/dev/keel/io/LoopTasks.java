package dev.keel.io;

import org.jctools.queues.varhandle.MpscChunkedVarHandleArrayQueue;

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
 * <p>Capacity: at most {@code capacity} tasks wait (JCTools MPSC array chunks of 256, linked as
 * the queue fills); one more is refused with RejectedExecutionException, so offering never
 * blocks a producer and a loop that cannot keep up is told, not buried. A loop runs at most
 * {@code maxTasksPerPass} of them per pass.
 */
final class LoopTasks {
    private static final int CHUNK = 256;

    private final MpscChunkedVarHandleArrayQueue<Runnable> queue;
    private final int capacity;
    private final AtomicInteger offering = new AtomicInteger();
    private volatile boolean closed;

    /** A queue for at most {@code capacity} waiting tasks (at least 256; a power of two is kept as is, else rounded up). */
    LoopTasks(int capacity) {
        // JCTools wants chunks smaller than the whole: 128 for the smallest queue, 256 otherwise.
        this.queue = new MpscChunkedVarHandleArrayQueue<>(capacity > CHUNK ? CHUNK : CHUNK / 2, capacity);
        this.capacity = queue.capacity();
    }

    /** Receives a task that threw. */
    @FunctionalInterface
    interface Failure {
        void failed(Throwable t);
    }

    /**
     * Takes {@code task} for the loop thread, or refuses it.
     *
     * @throws RejectedExecutionException once the loop has terminated, or when {@code capacity}
     *         tasks wait already
     */
    void offer(Runnable task, int loop) {
        offering.incrementAndGet();
        try {
            if (closed) {
                throw new RejectedExecutionException("event loop " + loop + " has terminated");
            }
            if (!queue.offer(task)) {
                throw new RejectedExecutionException("event loop " + loop + " has " + capacity
                        + " tasks waiting already (LoopOptions.maxPendingTasks)");
            }
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
