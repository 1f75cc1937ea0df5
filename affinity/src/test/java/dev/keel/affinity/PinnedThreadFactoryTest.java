package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PinnedThreadFactoryTest {
    private static final Duration LIMIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void shouldPinEachThreadOfAPoolToItsOwnCpuOfThePlan() {
        CorePlan plan = CorePlan.forLoops(CpuTopology.system().usable().size());
        PinnedThreadFactory factory = new PinnedThreadFactory("loop", plan).daemon(true);
        assertTimeoutPreemptively(LIMIT, () -> {
            ExecutorService pool = Executors.newFixedThreadPool(plan.size(), factory);
            try {
                CountDownLatch all = new CountDownLatch(plan.size());
                List<Future<String>> seen = new java.util.ArrayList<>();
                for (int i = 0; i < plan.size(); i++) {
                    seen.add(pool.submit(() -> {
                        all.countDown();
                        all.await();   // every task on its own thread
                        return Thread.currentThread().getName() + "@" + Affinity.currentCpu() + " " + Affinity.currentMask();
                    }));
                }
                Set<String> expected = new HashSet<>();
                Set<String> actual = new HashSet<>();
                for (int i = 0; i < plan.size(); i++) {
                    expected.add("loop-" + i + "@" + plan.cpu(i) + " " + plan.cpu(i));
                    actual.add(seen.get(i).get());
                }
                assertEquals(expected, actual, "thread loop-i runs on plan CPU i and only there");
            } finally {
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
            }
        });
    }

    @Test
    void shouldRefuseAThreadMoreThanTheCpusAndReuseAFreedCpu() {
        int cpu = CpuTopology.system().usable().last();
        PinnedThreadFactory factory = PinnedThreadFactory.onCpus("one", cpu).daemon(true);
        assertTimeoutPreemptively(LIMIT, () -> {
            AtomicReference<Integer> ranOn = new AtomicReference<>();
            Thread first = factory.newThread(() -> ranOn.set(Affinity.currentCpu()));
            assertEquals(cpu, factory.cpuOf(first).orElseThrow());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> factory.newThread(() -> { }));
            assertTrue(e.getMessage().contains("has a live thread"), e.getMessage());
            first.start();
            first.join();
            assertEquals(cpu, ranOn.get());
            Thread second = factory.newThread(() -> ranOn.set(-Affinity.currentCpu() - 1));
            second.start();
            second.join();
            assertEquals(-cpu - 1, ranOn.get(), "the ended thread's CPU went to the next one");
        });
    }

    @Test
    void shouldHoldAReservationWhileTheThreadRuns() {
        int cpu = CpuTopology.system().usable().first();
        CpuReservations r = CpuReservations.in(dir);
        PinnedThreadFactory factory = PinnedThreadFactory.onCpus("held", cpu).reserving(r).daemon(true);
        assertTimeoutPreemptively(LIMIT, () -> {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread t = factory.newThread(() -> {
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            running.await();
            CpuHolder holder = r.holder(cpu).orElseThrow();
            assertEquals("held-0", holder.thread());
            assertTrue(r.tryReserve(cpu).isEmpty());
            release.countDown();
            t.join();
            assertTrue(r.holder(cpu).isEmpty(), "released when the thread ends");
        });
    }

    @Test
    void shouldRefuseACpuTheKernelWouldRefuse() {
        int missing = CpuTopology.system().possible().last() + 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PinnedThreadFactory.onCpus("bad", missing));
        assertTrue(e.getMessage().startsWith("cannot pin threads to CPU " + missing + ": CPU " + missing + " does not exist"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PinnedThreadFactory.onCpus("twice", 0, 0));
    }
}
