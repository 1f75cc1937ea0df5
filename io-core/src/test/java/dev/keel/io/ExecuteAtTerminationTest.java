package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link EventLoop#execute} either takes a task, and then the task runs, or refuses it with
 * RejectedExecutionException; a task is never dropped because the loop was stopping.
 */
class ExecuteAtTerminationTest {
    @Test
    @Timeout(60)
    void shouldRunTasksStillQueuedWhenTheLoopStops() throws Exception {
        AtomicLong ran = new AtomicLong();
        int queued = 5_000; // more than one pass runs (maxTasksPerPass)
        EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(new Echo()).start();
        EventLoop loop = group.loops().get(0);
        CompletableFuture<Integer> taken = new CompletableFuture<>();
        loop.execute(() -> {
            int n = 0;
            try {
                for (; n < queued; n++) {
                    loop.execute(ran::incrementAndGet);
                }
            } finally {
                loop.requestShutdown(); // the loop stops with these tasks still queued
                taken.complete(n);
            }
        });
        assertEquals(queued, taken.get(10, TimeUnit.SECONDS), "the running loop took every task");
        group.close();
        assertEquals(queued, ran.get(), "every task execute() took ran");
    }

    @Test
    @Timeout(60)
    void shouldRefuseATaskPastTheQueuesCapacityAndRunEveryTaskTaken() throws Exception {
        int capacity = 256;
        EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(new Echo())
                .options(LoopOptions.builder().maxPendingTasks(capacity).build()).start();
        try {
            EventLoop loop = group.loops().get(0);
            CountDownLatch blocking = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            loop.execute(() -> {
                blocking.countDown();
                try {
                    release.await(); // the loop is stuck in a task: nothing else is taken off the queue
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(blocking.await(10, TimeUnit.SECONDS));
            AtomicLong ran = new AtomicLong();
            for (int i = 0; i < capacity; i++) {
                loop.execute(ran::incrementAndGet);
            }
            RejectedExecutionException refused = assertThrows(RejectedExecutionException.class,
                    () -> loop.execute(ran::incrementAndGet));
            assertTrue(refused.getMessage().contains(capacity + " tasks waiting"), refused.getMessage());
            release.countDown();
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                 ran.get() < capacity && System.nanoTime() < deadline; ) {
                Thread.sleep(1);
            }
            assertEquals(capacity, ran.get(), "every task taken ran");
            CompletableFuture<Long> after = new CompletableFuture<>();
            loop.execute(() -> after.complete(ran.get())); // room again now the queue drained
            assertEquals(capacity, after.get(10, TimeUnit.SECONDS));
        } finally {
            group.close();
        }
    }

    @Test
    @Timeout(60)
    void shouldRunOrRefuseEveryTaskSubmittedWhileTheLoopTerminates() throws Exception {
        for (int round = 0; round < 20; round++) {
            EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(new Echo()).start();
            EventLoop loop = group.loops().get(0);
            AtomicLong taken = new AtomicLong();
            AtomicLong ran = new AtomicLong();
            AtomicBoolean go = new AtomicBoolean();
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                Thread t = new Thread(() -> {
                    while (!go.get()) {
                        Thread.onSpinWait();
                    }
                    while (true) {
                        try {
                            loop.execute(ran::incrementAndGet);
                            taken.incrementAndGet();
                        } catch (RejectedExecutionException e) {
                            return;
                        }
                    }
                }, "producer-" + p);
                t.start();
                producers.add(t);
            }
            go.set(true);
            Thread.sleep(20);
            group.close();
            for (Thread t : producers) {
                t.join(30_000);
                assertTrue(!t.isAlive(), "a producer was refused in the end");
            }
            assertEquals(taken.get(), ran.get(), "round " + round + ": tasks execute() took but never ran");
        }
    }
}
