package dev.keel.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The application's own flow control on a connection: {@link Connection#pauseReading()} holds
 * input back until {@link Connection#resumeReading()}, and {@link Connection#recordOutput}
 * counts bytes sent outside {@code write()} as activity for the idle timeout.
 */
@Timeout(30)
class ApplicationFlowControlTest {
    private EventLoopGroup group;

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    @Test
    void shouldDeliverNothingWhilePausedAndEverythingAfterResuming() throws Exception {
        AtomicLong received = new AtomicLong();
        AtomicReference<Connection> connection = new AtomicReference<>();
        group = EventLoopGroup.builder().handler(new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                if (received.getAndAdd(data.byteSize()) == 0) {
                    c.pauseReading();
                    connection.set(c);
                }
            }
        }).start();
        try (Socket s = new Socket()) {
            s.connect(group.address(), 5000);
            OutputStream out = s.getOutputStream();
            out.write(1);
            EchoBehaviourTest.await("the first byte", () -> connection.get() != null);
            out.write(new byte[9999]);
            Thread.sleep(300);
            assertEquals(1, received.get(), "nothing delivered while paused");
            connection.get().loop().execute(() -> connection.get().resumeReading());
            EchoBehaviourTest.await("the rest after resuming", () -> received.get() == 10_000);
        }
    }

    @Test
    void shouldCountRecordedOutputAsActivityForTheIdleTimeout() throws Exception {
        CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        AtomicLong opened = new AtomicLong();
        LoopOptions options = LoopOptions.builder().idleTimeout(Duration.ofMillis(300)).build();
        group = EventLoopGroup.builder().options(options).handler(new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) {
                opened.set(System.nanoTime());
                keepBusy(c, 8); // "sends" every 100 ms for 800 ms, as a sendfile transfer would
            }

            private void keepBusy(Connection c, int times) {
                if (times > 0 && c.isOpen()) {
                    c.recordOutput(1000);
                    c.loop().schedule(Duration.ofMillis(100), () -> keepBusy(c, times - 1));
                }
            }

            @Override
            public void onData(Connection c, MemorySegment data) {
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                closed.complete(reason);
            }
        }).start();
        try (Socket s = new Socket()) {
            s.connect(group.address(), 5000);
            CloseReason reason = closed.get(10, TimeUnit.SECONDS);
            long lived = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened.get());
            assertEquals(CloseReason.IDLE_TIMEOUT, reason);
            assertTrue(lived >= 900, "idle only after the recorded output stopped, closed after " + lived + " ms");
            assertTrue(group.loops().get(0).stats().bytesOut() >= 8000, "recorded bytes are counted");
        }
    }
}
