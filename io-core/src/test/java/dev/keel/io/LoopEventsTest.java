package dev.keel.io;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loop's JFR events, recorded from a real server, and their cost when nothing records. */
class LoopEventsTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void shouldRecordConnectionOpenCloseAndAStallWithTheirFields() throws Exception {
        ConnectionHandler sleepy = new Echo() {
            @Override
            public void onData(Connection connection, MemorySegment data) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.onData(connection, data);
            }
        };
        Path file = dir.resolve("loop.jfr");
        int clientPort;
        try (Recording recording = new Recording()) {
            recording.enable("dev.keel.io.ConnectionOpened");
            recording.enable("dev.keel.io.ConnectionClosed");
            recording.enable("dev.keel.io.LoopStall");
            recording.start();
            try (EventLoopGroup g = EventLoopGroup.builder().unpinned().options(LoopOptions.builder()
                    .stallThreshold(Duration.ofMillis(10)).build()).handler(sleepy).start()) {
                try (Socket s = EchoBehaviourTest.connect(g)) {
                    clientPort = s.getLocalPort();
                    s.getOutputStream().write('x');
                    assertEquals('x', s.getInputStream().read());
                }
                LoopMetricsBehaviourTest.settled(g, x -> x.closed() == 1);
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        RecordedEvent opened = only(events, "dev.keel.io.ConnectionOpened");
        assertEquals("127.0.0.1:" + clientPort, opened.getString("peer"));
        assertEquals(0, opened.getInt("loop"));
        assertTrue(opened.getInt("fd") >= 0);
        RecordedEvent closed = only(events, "dev.keel.io.ConnectionClosed");
        assertEquals(opened.getInt("fd"), closed.getInt("fd"));
        assertEquals(opened.getLong("handle"), closed.getLong("handle"));
        assertEquals(CloseReason.PEER_CLOSED.name(), closed.getString("reason"));
        List<RecordedEvent> stalls = events.stream()
                .filter(e -> e.getEventType().getName().equals("dev.keel.io.LoopStall")).toList();
        assertTrue(stalls.stream().anyMatch(e -> e.getDuration("busy").toMillis() >= 50),
                "a stall of at least 50 ms among " + stalls);
        assertTrue(stalls.stream().allMatch(e -> e.getLong("pass") > 0 && e.getLong("syscalls") >= 0));
    }

    @Test
    void shouldAllocateNothingWhenNoRecordingEnablesTheEvents() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Connection c = new Connection(null, 0, 1L, 3, MemorySegment.NULL, null);
        long allocated = -1;
        for (int round = 0; round < 20 && allocated != 0; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100_000; i++) {
                LoopEvents.opened(0, c);
                LoopEvents.stall(0, 20_000_000L, i, 3);
                LoopEvents.closed(0, c, CloseReason.LOCAL);
            }
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertEquals(0, allocated, "bytes allocated by 300,000 events with JFR off");
    }

    private static RecordedEvent only(List<RecordedEvent> events, String name) {
        List<RecordedEvent> matching = events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
        assertEquals(1, matching.size(), name + " events: " + matching);
        return matching.getFirst();
    }
}
