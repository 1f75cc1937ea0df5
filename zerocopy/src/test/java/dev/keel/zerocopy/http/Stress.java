package dev.keel.zerocopy.http;

import dev.keel.io.EventLoop;
import dev.keel.io.testing.ResourceSnapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sizes and checks shared by the hostile-client and fault tests: a scenario runs small in
 * {@code make test} and at full size under {@code make stress} ({@code -Dkeel.stress=true}),
 * and ends with the leak accounting of {@link ResourceSnapshot}.
 */
final class Stress {
    /** Direct memory the JDK itself may take meanwhile (socket adaptors, temporary buffers). */
    static final long DIRECT_SLACK = 4L * 1024 * 1024;

    private Stress() {
    }

    static boolean full() {
        return Boolean.getBoolean("keel.stress");
    }

    /** {@code small} in make test, {@code full} under make stress. */
    static int size(int small, int full) {
        return full() ? full : small;
    }

    static void await(String what, BooleanSupplier condition, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(condition.getAsBoolean(), what + " within " + seconds + " s");
    }

    /**
     * What the server's own pools legitimately keep between phases, per loop: the pipes the
     * transport keeps for file bodies (descriptors; io_uring only) and idle input buffers (bytes); and the open-file cache's capacity,
     * the bound its descriptors are checked against.
     */
    record Held(int pipeDescriptors, long bytes, int cacheCapacity) {
    }

    static Held held(FileServer server) throws Exception {
        int fds = 0;
        long bytes = 0;
        int capacity = 0;
        for (EventLoop loop : server.group().loops()) {
            CompletableFuture<long[]> f = new CompletableFuture<>();
            loop.execute(() -> {
                LoopResources r = server.resources(loop.index());
                f.complete(r == null ? new long[3]
                        : new long[] {2L * loop.stats().filePipes(), r.idleBufferBytes(), r.cache.capacity()});
            });
            long[] v = f.get(10, TimeUnit.SECONDS);
            fds += (int) v[0];
            bytes += v[1];
            capacity += (int) v[2];
        }
        return new Held(fds, bytes, capacity);
    }

    /**
     * Waits until the process and the server's loops hold what they held at {@code baseline},
     * give or take what the server's bounded pools took meanwhile (pipes and input buffers,
     * {@code heldBefore} against now), and the descriptors of served files are within the
     * open-file cache's bound (at most its capacity in all, each file at most once per loop);
     * then asserts so.
     */
    static void assertBackTo(FileServer server, ResourceSnapshot baseline, Held heldBefore) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> grown;
        while (true) {
            Held held = held(server);
            ResourceSnapshot now = ResourceSnapshot.ofSelf(server.group());
            ResourceSnapshot fair = new ResourceSnapshot(now.pid(), now.fds() - (held.pipeDescriptors() - heldBefore.pipeDescriptors()),
                    now.files(), now.threads(), now.rssBytes(), now.directBytes(), now.nativeHeapBytes(), now.mappedBytes(),
                    now.loops());
            ResourceSnapshot.FileBound bound = new ResourceSnapshot.FileBound(server.root(),
                    Math.max(held.cacheCapacity(), heldBefore.cacheCapacity()), server.group().loops().size());
            grown = new ArrayList<>(fair.growthSince(baseline, DIRECT_SLACK + held.bytes() - heldBefore.bytes(), bound));
            if (grown.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            // Input buffers past the pool's bound come from automatic arenas: the collector frees them.
            System.gc();
            Thread.sleep(50);
        }
        assertEquals(List.of(), grown, "resources after the phase, against " + baseline);
    }
}
