package dev.keel.zerocopy;

import dev.keel.io.EventLoop;
import dev.keel.io.ResourceSnapshot;

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
     * What the server's own pools legitimately keep between phases, per loop: files in the
     * open-file cache and pipes in the pipe pool (descriptors), and idle input buffers (bytes).
     */
    record Held(int descriptors, long bytes) {
    }

    static Held held(FileServer server) throws Exception {
        int fds = 0;
        long bytes = 0;
        for (EventLoop loop : server.group().loops()) {
            CompletableFuture<long[]> f = new CompletableFuture<>();
            loop.execute(() -> {
                LoopResources r = server.resources(loop.index());
                f.complete(r == null ? new long[2]
                        : new long[] {r.cache.size() + 2L * r.pipes.open(), r.idleBufferBytes()});
            });
            long[] v = f.get(10, TimeUnit.SECONDS);
            fds += (int) v[0];
            bytes += v[1];
        }
        return new Held(fds, bytes);
    }

    /**
     * Waits until the process and the server's loops hold what they held at {@code baseline},
     * give or take what the server's bounded pools took meanwhile ({@code heldBefore} against
     * now), then asserts so.
     */
    static void assertBackTo(FileServer server, ResourceSnapshot baseline, Held heldBefore) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> grown;
        while (true) {
            Held held = held(server);
            ResourceSnapshot now = ResourceSnapshot.ofSelf(server.group());
            ResourceSnapshot fair = new ResourceSnapshot(now.pid(), now.fds() - (held.descriptors() - heldBefore.descriptors()),
                    now.threads(), now.rssBytes(), now.directBytes(), now.loops());
            grown = new ArrayList<>(fair.growthSince(baseline, DIRECT_SLACK + held.bytes() - heldBefore.bytes()));
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
