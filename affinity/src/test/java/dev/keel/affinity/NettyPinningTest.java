package dev.keel.affinity;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link PinnedThreadFactory} as the thread factory of Netty 4.2's
 * {@code MultiThreadIoEventLoopGroup} on epoll, which has no pinning of its own: every event
 * loop thread runs on its own CPU of the plan, as the kernel says in the thread's
 * {@code /proc/thread-self/status} ({@code Cpus_allowed_list}), and holds its reservation
 * while it runs.
 */
class NettyPinningTest {
    @TempDir
    Path locks;

    /** What one loop thread found about itself. */
    private record Seen(Thread self, String thread, String cpusAllowed, int cpu) {
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldPinEachNettyEpollLoopToItsCpuOfThePlan() throws Exception {
        assumeTrue(Epoll.isAvailable(), () -> "Netty's native epoll is unavailable: " + Epoll.unavailabilityCause());
        CpuTopology t = CpuTopology.system();
        int loops = Math.min(2, t.usable().size());
        CorePlan plan = CorePlan.on(t).plan(loops);
        CpuReservations reservations = CpuReservations.in(locks).as("netty test");
        PinnedThreadFactory factory = new PinnedThreadFactory("netty-epoll", plan).daemon(true).reserving(reservations);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(loops, factory, EpollIoHandler.newFactory());
        List<Seen> seen = new ArrayList<>();
        try {
            for (int i = 0; i < loops; i++) {
                EventLoop loop = group.next();
                // The first task starts the loop's thread through the factory; it reports from inside.
                seen.add(loop.submit(() -> new Seen(Thread.currentThread(), Thread.currentThread().getName(), cpusAllowed(),
                        Affinity.currentCpu())).get(20, TimeUnit.SECONDS));
            }
            for (int i = 0; i < loops; i++) {
                Seen s = seen.get(i);
                assertEquals("netty-epoll-" + i, s.thread(), "threads come from the factory, one per loop");
                assertEquals(Integer.toString(plan.cpu(i)), s.cpusAllowed(), s.thread() + "'s Cpus_allowed_list");
                assertEquals(plan.cpu(i), s.cpu());
                CpuHolder holder = reservations.holder(plan.cpu(i)).orElseThrow();
                assertEquals(s.thread(), holder.thread());
                assertEquals("netty test", holder.command());
            }
            assertEquals(plan.asSet(), reservations.reserved());
        } finally {
            assertTrue(group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(30, TimeUnit.SECONDS));
        }
        for (Seen s : seen) {
            s.self().join(); // a thread gives its CPU back as it ends (the test's timeout bounds the wait)
        }
        assertEquals(List.of(), reservations.holders(), "the loops' threads released their CPUs");
    }

    /** The calling thread's allowed CPUs as the kernel reports them. */
    private static String cpusAllowed() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return line.substring(line.indexOf(':') + 1).strip();
            }
        }
        throw new IllegalStateException("no Cpus_allowed_list in /proc/thread-self/status");
    }
}
