package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leak accounting sees a descriptor, a thread and a connection held, and their return. */
@Timeout(30)
class ResourceSnapshotTest {
    @TempDir
    Path dir;

    @Test
    void shouldNameADescriptorAndAThreadHeldAndNothingOnceTheyAreGone() throws Exception {
        holdAndRelease(); // the JDK opens what it keeps (its own threads, libraries) on first use: not a leak
        ResourceSnapshot before = ResourceSnapshot.ofSelf();
        holdAndRelease();
        assertEquals(List.of(), ResourceSnapshot.ofSelf().growthSince(before, 1 << 20));
    }

    private void holdAndRelease() throws Exception {
        ResourceSnapshot before = ResourceSnapshot.ofSelf();
        Thread sleeper = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (FileChannel f = FileChannel.open(dir.resolve("held"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            List<String> grown = ResourceSnapshot.ofSelf().growthSince(before, 0);
            assertTrue(grown.stream().anyMatch(g -> g.startsWith("descriptors ")), grown.toString());
            assertTrue(grown.stream().anyMatch(g -> g.startsWith("threads ")), grown.toString());
        } finally {
            sleeper.interrupt();
            sleeper.join();
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
