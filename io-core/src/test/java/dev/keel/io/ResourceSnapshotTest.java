package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import dev.keel.io.testing.ResourceSnapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leak accounting sees descriptors, threads, connections, pool buffers, off-heap and
 * mapped bytes held, and files held past a bound, and their return; and it fails what it
 * could not read.
 */
@Timeout(30)
class ResourceSnapshotTest {
    @TempDir
    Path dir;

    private static ResourceSnapshot snapshot(int fds, int threads, long direct, long mapped, int connections, int buffers) {
        return new ResourceSnapshot(1, fds, Map.of("socket:[1]", fds), threads, 1 << 20, direct, 1 << 20, mapped,
                List.of(new ResourceSnapshot.LoopUsage(connections, buffers, 0)));
    }

    @Test
    void shouldNameWhatGrewAndOnlyThat() {
        ResourceSnapshot before = snapshot(10, 5, 1000, 4096, 0, 0);
        ResourceSnapshot same = snapshot(10, 5, 1500, 4096, 0, 0);
        assertEquals(List.of(), same.growthSince(before, 1000), "direct memory within the slack");
        ResourceSnapshot worse = snapshot(12, 6, 5000, 8192, 3, 2);
        assertEquals(List.of("descriptors 10 -> 12", "threads 5 -> 6", "direct bytes 1000 -> 5000",
                "mapped loop bytes 4096 -> 8192", "loop 0 connections 0 -> 3", "loop 0 buffers in use 0 -> 2"),
                worse.growthSince(before, 1000));
    }

    @Test
    void shouldFailWhatItCouldNotRead() {
        ResourceSnapshot before = snapshot(10, 5, 1000, 4096, 0, 0);
        ResourceSnapshot unreadable = new ResourceSnapshot(1, ResourceSnapshot.UNREADABLE, null, ResourceSnapshot.UNREADABLE,
                1 << 20, 1000, ResourceSnapshot.UNREADABLE, 4096, before.loops());
        assertEquals(3, unreadable.growthSince(before, 0).size(), unreadable.growthSince(before, 0).toString());
        assertEquals(3, before.growthSince(unreadable, 0).size(), "an unreadable baseline fails too");
        ResourceSnapshot gone = ResourceSnapshot.ofProcess(Integer.MAX_VALUE); // no such process
        ResourceSnapshot other = ResourceSnapshot.ofProcess(ProcessHandle.current().pid());
        assertFalse(gone.growthSince(other, 0).isEmpty(), "a process that vanished is not a process without growth");
        assertFalse(before.growthSince(other, 1 << 30).isEmpty(), "direct bytes measured in one snapshot only");
    }

    @Test
    void shouldCountThisProcesssDescriptorsAndThreadsFromProc() throws Exception {
        // Other tests' threads may come and go in this JVM meanwhile: hold many, check the difference.
        ResourceSnapshot before = ResourceSnapshot.ofSelf();
        List<FileChannel> files = new ArrayList<>();
        List<Thread> sleepers = new ArrayList<>();
        ResourceSnapshot holding;
        try {
            for (int i = 0; i < 32; i++) {
                files.add(FileChannel.open(dir.resolve("held-" + i), StandardOpenOption.CREATE, StandardOpenOption.WRITE));
            }
            for (int i = 0; i < 8; i++) {
                sleepers.add(Thread.ofPlatform().start(ResourceSnapshotTest::sleep));
            }
            holding = ResourceSnapshot.ofSelf();
            assertTrue(holding.fds() - before.fds() >= 28, before.fds() + " -> " + holding.fds() + " descriptors");
            assertTrue(holding.threads() - before.threads() >= 6, before.threads() + " -> " + holding.threads() + " threads");
        } finally {
            for (FileChannel f : files) {
                f.close();
            }
            for (Thread t : sleepers) {
                t.interrupt();
                t.join();
            }
        }
        // Measured as the drop from holding, with room for threads the JVM starts meanwhile. A
        // joined thread's kernel task can outlive join() for a moment: wait for /proc to drop it.
        ResourceSnapshot after = ResourceSnapshot.ofSelf();
        for (long deadline = System.nanoTime() + 10_000_000_000L;
             holding.threads() - after.threads() < 4 && System.nanoTime() < deadline; ) {
            Thread.sleep(10);
            after = ResourceSnapshot.ofSelf();
        }
        assertTrue(holding.fds() - after.fds() >= 28, holding.fds() + " -> " + after.fds() + " descriptors once closed");
        assertTrue(holding.threads() - after.threads() >= 4,
                holding.threads() + " -> " + after.threads() + " threads once ended");
    }

    private static void sleep() {
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void shouldCountTheConnectionsOfALoopAndTheirReturn() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().handler((c, data) -> c.write(data)).start()) {
            exchange(group);
            Thread.sleep(200);
            ResourceSnapshot before = ResourceSnapshot.ofSelf(group);
            assertEquals(0, before.loops().get(0).connections());
            assertTrue(before.mappedBytes() > 0, "pool and table are off-heap");
            exchange(group);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (ResourceSnapshot.ofSelf(group).loops().get(0).connections() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(List.of(), ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20));
        }
    }

    /** Each kind of leak, injected on purpose, fails the snapshot; and taking it back passes it again. */
    @Test
    void shouldFailOnEachKindOfLeak() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().handler((c, data) -> c.write(data)).start()) {
            exchange(group);
            Thread.sleep(200);
            ResourceSnapshot before = ResourceSnapshot.ofSelf(group);
            assertEquals(List.of(), ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20), "nothing leaked yet");
            assertTrue(before.mappedBytes() > 0, "the loop's table and pool are counted: " + before.mappedBytes());

            // A descriptor.
            try (FileChannel leaked = FileChannel.open(dir.resolve("leaked"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                assertGrew(group, before, "descriptors");
            }
            // A thread.
            Thread sleeper = Thread.ofPlatform().name("leaked").start(ResourceSnapshotTest::sleep);
            try {
                assertGrew(group, before, "threads");
            } finally {
                sleeper.interrupt();
                sleeper.join();
            }
            // A pool buffer, taken on the loop thread and not given back.
            EventLoop loop = group.loops().get(0);
            int id = onLoop(loop, () -> loop.pool().acquire(1024));
            try {
                assertGrew(group, before, "buffers in use");
            } finally {
                onLoop(loop, () -> {
                    loop.pool().release(id);
                    return 0;
                });
            }
            // Off-heap bytes: an arena never closed (closed here so as not to leak for real), and a direct buffer.
            Arena arena = Arena.ofShared();
            arena.allocate(ResourceSnapshot.NATIVE_HEAP_SLACK + (4L << 20));
            try {
                assertGrew(group, before, "native heap bytes");
            } finally {
                arena.close();
            }
            java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(4 << 20);
            assertGrew(group, before, "direct bytes");
            direct = null;
            // A loop's mapped table and pool: a group not closed.
            EventLoopGroup other = EventLoopGroup.builder().unpinned().handler((c, data) -> c.write(data)).start();
            try {
                assertTrue(ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20).stream()
                        .anyMatch(g -> g.startsWith("mapped loop bytes")), "a loop's memory not freed");
            } finally {
                other.close();
            }
            awaitNoGrowth(group, before, null);
        }
    }

    /** Files under a root held beyond a cache's bound: too many, or one path twice. */
    @Test
    void shouldFailWhenFilesUnderARootPassTheirBound() throws Exception {
        for (int i = 0; i < 3; i++) {
            java.nio.file.Files.writeString(dir.resolve("f" + i), "x");
        }
        ResourceSnapshot.FileBound bound = new ResourceSnapshot.FileBound(dir, 2, 1);
        ResourceSnapshot before = ResourceSnapshot.ofSelf();
        List<FileChannel> held = new ArrayList<>();
        try {
            held.add(FileChannel.open(dir.resolve("f0")));
            held.add(FileChannel.open(dir.resolve("f1")));
            assertEquals(List.of(), ResourceSnapshot.ofSelf().growthSince(before, 1 << 20, bound), "within the bound");
            held.add(FileChannel.open(dir.resolve("f2")));
            assertTrue(ResourceSnapshot.ofSelf().growthSince(before, 1 << 20, bound).stream()
                    .anyMatch(g -> g.contains("held 3 > bound 2")), "three files, bound two");
            held.removeLast().close();
            held.add(FileChannel.open(dir.resolve("f0")));
            assertTrue(ResourceSnapshot.ofSelf().growthSince(before, 1 << 20, bound).stream()
                    .anyMatch(g -> g.contains("file f0 held 2 times")), "one file twice");
            held.add(FileChannel.open(java.nio.file.Files.createTempFile("outside", ".tmp")));
            assertTrue(ResourceSnapshot.ofSelf().growthSince(before, 1 << 20, bound).stream()
                    .anyMatch(g -> g.startsWith("descriptors other than")), "a file outside the root is not excused");
        } finally {
            for (FileChannel f : held) {
                f.close();
            }
        }
    }

    private static void assertGrew(EventLoopGroup group, ResourceSnapshot before, String what) {
        List<String> grown = ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20);
        assertTrue(grown.stream().anyMatch(g -> g.contains(what)), what + " leaked, but the snapshot says " + grown);
    }

    private static void awaitNoGrowth(EventLoopGroup group, ResourceSnapshot before, ResourceSnapshot.FileBound bound)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<String> grown = ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20, bound);
        while (!grown.isEmpty() && System.nanoTime() < deadline) {
            System.gc(); // the direct buffer is freed by its cleaner
            Thread.sleep(50);
            grown = ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20, bound);
        }
        assertEquals(List.of(), grown, "every injected leak taken back");
    }

    private static int onLoop(EventLoop loop, java.util.concurrent.Callable<Integer> task) throws Exception {
        java.util.concurrent.CompletableFuture<Integer> f = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Exception e) {
                f.completeExceptionally(e);
            }
        });
        return f.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static void exchange(EventLoopGroup group) throws Exception {
        try (Socket s = new Socket("127.0.0.1", group.port())) {
            s.getOutputStream().write(1);
            s.getInputStream().read();
            assertEquals(1, ResourceSnapshot.ofSelf(group).loops().get(0).connections());
        }
    }
}
