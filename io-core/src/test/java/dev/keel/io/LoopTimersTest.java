package dev.keel.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loop's timers: the application's cannot crowd out the loop's own (idle timeouts, the
 * retry of a paused accept), the application hears loudly when it has no room left, and a
 * timer handle names one timer only, never a later one that reuses its place.
 */
class LoopTimersTest {
    private static final Duration LATER = Duration.ofHours(1);
    private EventLoopGroup group;

    private EventLoop start(LoopOptions options) {
        group = EventLoopGroup.builder().unpinned().options(options).handler(new Echo()).start();
        return group.loops().get(0);
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    /** How a loop's timers ran out. */
    private record Fill(int scheduled, boolean refusedLoudly) {
    }

    /** Schedules far-off application timers on {@code loop} until it refuses one. */
    private static Fill fill(EventLoop loop) throws Exception {
        return onLoop(loop, () -> {
            int n = 0;
            try {
                while (n < 10_000_000) {
                    if (loop.schedule(LATER, () -> { }) < 0) {
                        return new Fill(n, false);
                    }
                    n++;
                }
                throw new AssertionError("the loop took 10,000,000 timers");
            } catch (RejectedExecutionException e) {
                return new Fill(n, true);
            }
        });
    }

    @Test
    @Timeout(60)
    void shouldStillCloseIdleConnectionsWhenTheApplicationFilledItsTimers() throws Exception {
        EventLoop loop = start(LoopOptions.builder().maxConnections(4).idleTimeout(Duration.ofMillis(200)).build());
        fill(loop);
        try (Socket client = connect(group)) {
            assertEquals(-1, client.getInputStream().read(), "the idle connection is closed by the loop");
        }
        assertEquals(1, loop.stats().idleTimeouts());
    }

    @Test
    @Timeout(60)
    void shouldResumeAcceptingAfterAPauseWhenTheApplicationFilledItsTimers() throws Exception {
        EventLoop loop = start(LoopOptions.builder().maxConnections(4).acceptRetry(Duration.ofMillis(50)).build());
        fill(loop);
        onLoop(loop, () -> {
            loop.pauseAccepting(); // what the poller does on EMFILE
            return null;
        });
        try (Socket client = connect(group)) { // completes in the kernel's backlog
            client.getOutputStream().write("back".getBytes());
            assertArrayEquals("back".getBytes(), client.getInputStream().readNBytes(4),
                    "accepting resumed after its pause");
        }
    }

    @Test
    @Timeout(60)
    void shouldRefuseAnApplicationTimerLoudlyWhenThereIsNoRoom() throws Exception {
        EventLoop loop = start(LoopOptions.builder().maxConnections(4).maxTimers(100).build());
        Fill f = fill(loop);
        assertTrue(f.refusedLoudly(), "schedule threw RejectedExecutionException, it did not return -1");
        assertEquals(100, f.scheduled(), "the application gets the timers its options promise");
    }

    @Test
    @Timeout(60)
    void shouldNotLetAStaleTimerHandleCancelTheTimerThatReusedItsPlace() throws Exception {
        EventLoop loop = start(LoopOptions.defaults());
        var first = onLoop(loop, () -> loop.schedule(LATER, () -> { }));
        assertTrue(onLoop(loop, () -> loop.cancelTimer(first)), "a pending timer is cancelled");
        CompletableFuture<Boolean> secondRan = new CompletableFuture<>();
        var second = onLoop(loop, () -> loop.schedule(Duration.ofMillis(50), () -> secondRan.complete(true)));
        assertFalse(onLoop(loop, () -> loop.cancelTimer(first)), "the first handle is stale: it cancels nothing");
        assertTrue(secondRan.get(10, TimeUnit.SECONDS), "the second timer ran");
        assertFalse(onLoop(loop, () -> loop.cancelTimer(second)), "a timer that ran cannot be cancelled");
    }
}
