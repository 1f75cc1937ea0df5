package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leak accounting sees descriptors, threads and connections held, and their return. */
@Timeout(30)
class ResourceSnapshotTest {
    @TempDir
    Path dir;

    @Test
    void shouldNameWhatGrewAndOnlyThat() {
        ResourceSnapshot before = new ResourceSnapshot(1, 10, 5, 1 << 20, 1000, List.of(new ResourceSnapshot.LoopUsage(0, 0, 0, 64)));
        ResourceSnapshot same = new ResourceSnapshot(1, 10, 5, 9 << 20, 1500, List.of(new ResourceSnapshot.LoopUsage(0, 0, 0, 64)));
        assertEquals(List.of(), same.growthSince(before, 1000), "RSS is not compared; direct memory within the slack");
        ResourceSnapshot worse = new ResourceSnapshot(1, 12, 6, 1 << 20, 5000, List.of(new ResourceSnapshot.LoopUsage(3, 2, 4096, 64)));
        assertEquals(List.of("descriptors 10 -> 12", "threads 5 -> 6", "direct bytes 1000 -> 5000", "loop 0 connections 0 -> 3",
                "loop 0 buffers in use 0 -> 2"), worse.growthSince(before, 1000));
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
        // Measured as the drop from holding, with room for threads the JVM starts meanwhile.
        ResourceSnapshot after = ResourceSnapshot.ofSelf();
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
            assertTrue(before.loops().get(0).offHeapBytes() > 0, "pool and table are off-heap");
            exchange(group);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (ResourceSnapshot.ofSelf(group).loops().get(0).connections() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(List.of(), ResourceSnapshot.ofSelf(group).growthSince(before, 1 << 20));
        }
    }

    private static void exchange(EventLoopGroup group) throws Exception {
        try (Socket s = new Socket("127.0.0.1", group.port())) {
            s.getOutputStream().write(1);
            s.getInputStream().read();
            assertEquals(1, ResourceSnapshot.ofSelf(group).loops().get(0).connections());
        }
    }
}
