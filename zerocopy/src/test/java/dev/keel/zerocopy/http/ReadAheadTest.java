package dev.keel.zerocopy.http;

import dev.keel.io.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read-ahead pool is bounded: with its one reader busy and its queue of one full, the next
 * range is refused and counted; the others are read and handed back to their loop.
 */
@Timeout(60)
class ReadAheadTest {
    @TempDir
    Path dir;

    @Test
    void aFullQueueRefusesAndCountsWhileQueuedRangesAreReadAndHandedBack() throws Exception {
        Path file = dir.resolve("f.bin");
        Files.write(file, new byte[3 * 4096]);
        int fd = dev.keel.ffm.Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        Semaphore gate = new Semaphore(0);
        try (EventLoopGroup group = EventLoopGroup.builder().loops(1).unpinned().noReservations()
                .handler((c, data) -> { }).start();
             ReadAhead pool = new ReadAhead(1, 1)) {
            pool.holdCompletions(gate);
            CountDownLatch done = new CountDownLatch(2);
            boolean[] onLoop = new boolean[2];
            var loop = group.loops().get(0);
            assertTrue(pool.submit(loop, fd, 0, 4096, () -> {
                onLoop[0] = loop.inLoop();
                done.countDown();
            }));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (pool.queued() != 0) { // the reader took the first range and waits at the gate
                assertTrue(System.nanoTime() < deadline, "the reader never took the first range");
                Thread.sleep(1);
            }
            assertTrue(pool.submit(loop, fd, 4096, 4096, () -> {
                onLoop[1] = loop.inLoop();
                done.countDown();
            }), "one range fits the queue");
            assertFalse(pool.submit(loop, fd, 8192, 4096, () -> { }), "the queue holds one range at most");
            assertEquals(1, pool.refused());
            assertEquals(1, pool.queued());
            gate.release(2);
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertTrue(onLoop[0] && onLoop[1], "completions run on the loop");
            assertEquals(2, pool.submitted());
            assertEquals(2, pool.completed());
            assertEquals(8192, pool.bytesRead());
        } finally {
            dev.keel.ffm.Files.close(fd);
        }
    }
}
