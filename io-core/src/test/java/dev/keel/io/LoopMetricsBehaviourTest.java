package dev.keel.io;

import dev.keel.io.stats.HistogramSnapshot;
import dev.keel.io.stats.LoopStatsSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.readFully;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loop's counters, gauges and histograms against real traffic whose amounts the test
 * knows; written once, run on each transport by a thin subclass.
 */
abstract class LoopMetricsBehaviourTest {
    private EventLoopGroup group;

    abstract Transport transport();

    EventLoopGroup start(LoopOptions options, ConnectionHandler handler) {
        group = EventLoopGroup.builder().loops(1).unpinned().transport(transport()).options(options)
                .handler(handler).start();
        return group;
    }

    @AfterEach
    void stopGroup() {
        if (group != null) {
            group.close();
        }
    }

    /** Waits until a snapshot satisfies {@code condition} and the loop has gone quiet (two equal snapshots). */
    static LoopStatsSnapshot settled(EventLoopGroup g, Predicate<LoopStatsSnapshot> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        LoopStatsSnapshot last = null;
        while (System.nanoTime() < deadline) {
            LoopStatsSnapshot s = g.stats().getFirst();
            if (condition.test(s) && s.equals(last)) {
                return s;
            }
            last = s;
            Thread.sleep(50);
        }
        throw new AssertionError("loop statistics never settled as expected; last: " + last);
    }

    @Test
    @Timeout(60)
    void shouldCountConnectionsBytesAndSyscallsOfRealTraffic() throws Exception {
        EventLoopGroup g = start(LoopOptions.builder().maxConnections(64).build(), new Echo());
        int clients = 5;
        int bytes = 1000;
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                Socket s = connect(g);
                sockets.add(s);
                byte[] msg = new byte[bytes];
                msg[0] = (byte) i;
                s.getOutputStream().write(msg);
                assertArrayEquals(msg, readFully(s.getInputStream(), bytes));
            }
            for (int i = 0; i < 3; i++) {
                sockets.get(i).close();
            }
            LoopStatsSnapshot s = settled(g, x -> x.closed() == 3 && x.openConnections() == 2);
            assertEquals(clients, s.accepted());
            assertEquals(0, s.rejected());
            assertEquals((long) clients * bytes, s.bytesIn(), "bytes in");
            assertEquals((long) clients * bytes, s.bytesOut(), "bytes out");
            assertEquals(64, s.connectionCapacity());
            assertTrue(s.bufferCapacity() > 0);
            // At least one accept (or enter) per connection, and every counted call made in a pass.
            assertTrue(s.syscalls() >= clients, "syscalls " + s.syscalls());
            // The total also holds the listener's registration at start-up and the calls of the
            // pass in progress (the loop is blocked in it), which the per-pass histogram has not yet.
            long unrecorded = s.syscalls() - s.syscallsPerPass().sum();
            assertTrue(unrecorded >= 0 && unrecorded <= 2, "syscalls outside finished passes: " + unrecorded);
            assertEquals(s.passes(), s.syscallsPerPass().count(), "one syscall sample per pass");
            assertEquals(s.passes(), s.passBusyNanos().count(), "one busy-time sample per pass");
            assertTrue(s.passBusyNanos().sum() > 0);
            LoopStatsSnapshot total = LoopStatsSnapshot.total(List.of(s, s));
            assertEquals(-1, total.loop());
            assertEquals(2L * clients, total.accepted(), "a total adds the loops up");
            assertEquals(2 * s.passes(), total.passBusyNanos().count());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldCountIdleTimeoutsAndTheTimersThatFiredThem() throws Exception {
        EventLoopGroup g = start(LoopOptions.builder().idleTimeout(Duration.ofMillis(100)).tick(Duration.ofMillis(10))
                .build(), new Echo());
        try (Socket s = connect(g)) {
            assertEquals(-1, s.getInputStream().read(), "the idle connection was closed");
        }
        LoopStatsSnapshot s = settled(g, x -> x.closed() == 1);
        assertEquals(1, s.idleTimeouts());
        assertTrue(s.timersFired() >= 1, "timers fired " + s.timersFired());
        assertEquals(0, s.openConnections());
    }

    @Test
    @Timeout(60)
    void shouldCountAStallWhenAHandlerBlocksTheLoop() throws Exception {
        ConnectionHandler sleepy = new Echo() {
            @Override
            public void onData(Connection connection, MemorySegment data) {
                try {
                    Thread.sleep(50); // what a handler must never do: it keeps the loop from its sockets
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.onData(connection, data);
            }
        };
        EventLoopGroup g = start(LoopOptions.builder().stallThreshold(Duration.ofMillis(20)).build(), sleepy);
        try (Socket s = connect(g)) {
            s.getOutputStream().write('x');
            assertEquals('x', s.getInputStream().read());
            LoopStatsSnapshot stats = settled(g, x -> x.stalls() >= 1);
            assertTrue(stats.stalls() >= 1, "the pass that slept is a stall");
            HistogramSnapshot busy = stats.passBusyNanos();
            long[] bounds = busy.bounds();
            int below32ms = 0;
            while (bounds[below32ms + 1] <= 32_000_000L) {
                below32ms++;
            }
            assertTrue(busy.count() - busy.cumulative(below32ms) >= 1, "a pass longer than 32 ms: " + busy);
        }
    }

    @Test
    @Timeout(60)
    void shouldShowQueuedOutputAsPoolBuffersInUse() throws Exception {
        // Small socket buffers, so that the echo cannot all hide in the kernel.
        EventLoopGroup g = start(LoopOptions.builder().socketBuffers(0, 16 * 1024).build(), new Echo());
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(16 * 1024);
            s.connect(g.address(), 5000);
            s.setSoTimeout(10_000);
            long before = settled(g, x -> x.accepted() == 1).buffersInUse();
            OutputStream out = s.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            // Not reading the echo: it piles up in the loop's queue, in pool buffers.
            for (int i = 0; i < 8; i++) {
                out.write(chunk);
            }
            LoopStatsSnapshot busy = settled(g, x -> x.buffersInUse() > before);
            assertTrue(busy.buffersInUse() <= busy.bufferCapacity());
            InputStream in = s.getInputStream();
            readFully(in, 8 * chunk.length);
            assertEquals(before, settled(g, x -> x.buffersInUse() == before).buffersInUse(),
                    "the buffers came back once the queue drained");
        }
    }
}
