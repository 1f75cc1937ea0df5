package dev.keel.io;

import dev.keel.io.testing.LoopAllocations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Timers for applications, written once and run on each transport: fixed-rate and fixed-delay
 * periodic tasks (deadlines checked against the grid and against the wheel's ticks, never
 * against a wall-clock limit), handles that name one task only, per-connection read and write
 * timeouts, and no allocation by a running periodic task.
 */
abstract class TimersBehaviourTest {
    private EventLoopGroup group;

    abstract Transport transport();

    EventLoopGroup start(ConnectionHandler handler, LoopOptions.Builder options) {
        group = EventLoopGroup.builder().transport(transport()).unpinned().noReservations()
                .options(options.maxConnections(64).build()).host(InetAddress.getLoopbackAddress()).handler(handler)
                .start();
        return group;
    }

    @AfterEach
    void stop() throws Exception {
        if (group != null) {
            EventLoop loop = group.loops().get(0);
            await("no timer, connection or buffer left", () -> {
                try {
                    return onLoop(loop, () -> loop.pendingTimers() == 0 && loop.openConnections() == 0
                            && loop.buffersInUse() == 0);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            group.close();
        }
    }

    static final ConnectionHandler IGNORE = (c, data) -> { };

    @Test
    @Timeout(60)
    void shouldKeepAFixedRateTaskOnItsGridAndNeverEarly() throws Exception {
        EventLoop loop = start(IGNORE, LoopOptions.builder().tick(Duration.ofMillis(5))).loops().get(0);
        long period = Duration.ofMillis(20).toNanos();
        List<long[]> runs = java.util.Collections.synchronizedList(new ArrayList<>());
        long[] handle = new long[1];
        CompletableFuture<Void> done = new CompletableFuture<>();
        long first = onLoop(loop, () -> {
            handle[0] = loop.scheduleAtFixedRate(Duration.ofMillis(20), Duration.ofNanos(period), () -> {
                long now = System.nanoTime();
                runs.add(new long[] {loop.periodicDeadline(handle[0]), now});
                if (runs.size() == 12) {
                    assertTrue(loop.cancelTimer(handle[0]));
                    done.complete(null);
                }
                if (runs.size() == 5) {
                    sleep(3 * period); // a run longer than the period: the missed deadlines are skipped
                }
            });
            return loop.periodicDeadline(handle[0]);
        });
        done.get(30, TimeUnit.SECONDS);
        assertEquals(-1L, (long) onLoop(loop, () -> loop.periodicDeadline(handle[0])), "cancelled");
        long previous = Long.MIN_VALUE;
        for (long[] run : runs) {
            long deadline = run[0];
            assertEquals(0, (deadline - first) % period, "every deadline on the grid start + k * period");
            assertTrue(deadline > previous, "deadlines only advance, none run twice");
            assertTrue(run[1] - deadline >= 0, "never early");
            assertTrue(loop.tickOf(run[1]) >= loop.tickOf(deadline), "not before the deadline's tick");
            previous = deadline;
        }
        long afterLongRun = runs.get(5)[0] - runs.get(4)[0];
        assertTrue(afterLongRun > period, "the deadlines a long run missed were skipped, not run in a burst");
    }

    @Test
    @Timeout(60)
    void shouldRunAFixedDelayTaskADelayAfterEachRunEnded() throws Exception {
        EventLoop loop = start(IGNORE, LoopOptions.builder().tick(Duration.ofMillis(5))).loops().get(0);
        long delay = Duration.ofMillis(15).toNanos();
        List<long[]> runs = java.util.Collections.synchronizedList(new ArrayList<>());
        long[] handle = new long[1];
        CompletableFuture<Void> done = new CompletableFuture<>();
        onLoop(loop, () -> {
            handle[0] = loop.scheduleWithFixedDelay(Duration.ZERO, Duration.ofNanos(delay), () -> {
                runs.add(new long[] {loop.periodicDeadline(handle[0]), System.nanoTime()});
                if (runs.size() == 6) {
                    loop.cancelTimer(handle[0]);
                    done.complete(null);
                }
            });
            return null;
        });
        done.get(30, TimeUnit.SECONDS);
        for (int k = 1; k < runs.size(); k++) {
            assertTrue(runs.get(k)[0] - runs.get(k - 1)[1] >= delay, "deadline a delay after the previous run");
            assertTrue(runs.get(k)[1] - runs.get(k)[0] >= 0, "never early");
        }
    }

    @Test
    @Timeout(60)
    void shouldNotLetAStaleHandleCancelAnotherTask() throws Exception {
        EventLoop loop = start(IGNORE, LoopOptions.builder()).loops().get(0);
        AtomicInteger runs = new AtomicInteger();
        long[] handles = onLoop(loop, () -> {
            long a = loop.scheduleAtFixedRate(Duration.ofSeconds(5), Duration.ofSeconds(5), runs::incrementAndGet);
            assertTrue(loop.cancelTimer(a));
            long b = loop.scheduleAtFixedRate(Duration.ofSeconds(5), Duration.ofSeconds(5), runs::incrementAndGet);
            return new long[] {a, b};
        });
        assertFalse(onLoop(loop, () -> loop.cancelTimer(handles[0])), "the stale handle cancels nothing");
        assertTrue(onLoop(loop, () -> loop.periodicDeadline(handles[1]) > 0), "the task in its place still runs");
        long oneShot = onLoop(loop, () -> loop.schedule(Duration.ofSeconds(5), runs::incrementAndGet));
        assertFalse(onLoop(loop, () -> loop.cancelTimer(oneShot ^ (1L << 32))), "a handle of another generation");
        assertTrue(onLoop(loop, () -> loop.cancelTimer(oneShot)));
        assertTrue(onLoop(loop, () -> loop.cancelTimer(handles[1])));
        assertEquals(0, runs.get());
    }

    @Test
    @Timeout(120)
    void shouldAllocateNothingWhileAPeriodicTaskRuns() throws Exception {
        EventLoop loop = start(IGNORE, LoopOptions.builder().tick(Duration.ofMillis(1))).loops().get(0);
        AtomicLong fired = new AtomicLong();
        Runnable count = fired::incrementAndGet;
        long handle = onLoop(loop, () -> loop.scheduleAtFixedRate(Duration.ZERO, Duration.ofMillis(1), count));
        LoopAllocations.assertNoneAllocated(loop.thread(), 1000, "periodic firings", i -> {
            long want = fired.get() + 1;
            while (fired.get() < want) {
                Thread.onSpinWait();
            }
        });
        assertTrue(onLoop(loop, () -> loop.cancelTimer(handle)));
    }

    /** Sets the read or write timeout on open and floods the peer when asked. */
    static final class TimeoutServer implements ConnectionHandler {
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        final Duration read;
        final Duration write;
        final int flood;

        TimeoutServer(Duration read, Duration write, int flood) {
            this.read = read;
            this.write = write;
            this.flood = flood;
        }

        @Override
        public void onOpen(Connection c) {
            c.readTimeout(read);
            c.writeTimeout(write);
            if (flood > 0) {
                MemorySegment chunk = Arena.ofAuto().allocate(64 * 1024);
                for (int sent = 0; sent < flood; sent += (int) chunk.byteSize()) {
                    c.write(chunk);
                }
                c.close();
            }
        }

        @Override
        public void onData(Connection c, MemorySegment data) {
        }

        @Override
        public void onClose(Connection c, CloseReason reason) {
            closed.complete(reason);
        }
    }

    @Test
    @Timeout(60)
    void shouldCloseASilentConnectionOnItsReadTimeout() throws Exception {
        TimeoutServer server = new TimeoutServer(Duration.ofMillis(200), Duration.ZERO, 0);
        EventLoopGroup g = start(server, LoopOptions.builder());
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setSoTimeout(20_000);
            assertEquals(CloseReason.READ_TIMEOUT, server.closed.get(20, TimeUnit.SECONDS));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    @Timeout(60)
    void shouldKeepAConnectionThatSendsPastItsReadTimeout() throws Exception {
        TimeoutServer server = new TimeoutServer(Duration.ofMillis(1500), Duration.ZERO, 0);
        EventLoopGroup g = start(server, LoopOptions.builder());
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            OutputStream out = s.getOutputStream();
            long until = System.nanoTime() + Duration.ofMillis(3500).toNanos();
            while (System.nanoTime() < until) {
                out.write('x');
                Thread.sleep(50);
            }
            assertFalse(server.closed.isDone(), "bytes kept coming: no read timeout");
            assertEquals(CloseReason.READ_TIMEOUT, server.closed.get(20, TimeUnit.SECONDS), "then silence");
        }
    }

    @Test
    @Timeout(60)
    void shouldCloseOnItsWriteTimeoutWhenThePeerStopsReading() throws Exception {
        TimeoutServer server = new TimeoutServer(Duration.ZERO, Duration.ofMillis(300), 8 << 20);
        EventLoopGroup g = start(server, LoopOptions.builder());
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(64 * 1024);
            s.connect(g.address(), 5000);
            assertEquals(CloseReason.WRITE_TIMEOUT, server.closed.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void shouldNotTimeOutOutputThatMoves() throws Exception {
        TimeoutServer server = new TimeoutServer(Duration.ZERO, Duration.ofSeconds(3), 8 << 20);
        EventLoopGroup g = start(server, LoopOptions.builder());
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setSoTimeout(20_000);
            InputStream in = s.getInputStream();
            assertEquals(8 << 20, in.readAllBytes().length, "every byte arrived");
            assertEquals(CloseReason.LOCAL, server.closed.get(20, TimeUnit.SECONDS));
        }
    }

    static void sleep(long nanos) {
        try {
            Thread.sleep(Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
