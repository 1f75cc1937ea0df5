package dev.keel.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.io.EchoBehaviourTest.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections whose reading is blocked (paused by the application, or input already closed)
 * when the socket hangs up or fails: the loop must neither spin on the hang-up nor keep a
 * connection that can never move a byte again, and must not lose bytes a paused connection
 * still has to read. Spinning is seen without a clock: an idle loop with no timer blocks, so
 * its pass count stands still over a quiet interval; a spinning one adds thousands.
 */
abstract class HangUpBehaviourTest {
    /** Passes an idle loop may make in the quiet interval (wake-ups from the test's own tasks). */
    private static final long QUIET_PASSES = 30;
    private EventLoopGroup group;

    abstract Transport transport();

    private EventLoop start(ConnectionHandler handler) {
        group = EventLoopGroup.builder().unpinned().transport(transport()).handler(handler).start();
        return group.loops().get(0);
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    /** Records what the loop told the handler. */
    static class Recorder implements ConnectionHandler {
        final CompletableFuture<Connection> opened = new CompletableFuture<>();
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        final StringBuilder received = new StringBuilder();
        final CompletableFuture<String> inputClosed = new CompletableFuture<>();

        @Override
        public void onOpen(Connection c) {
            opened.complete(c);
        }

        @Override
        public void onData(Connection c, MemorySegment data) {
            received.append(new String(data.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
        }

        @Override
        public void onInputClosed(Connection c) {
            inputClosed.complete(received.toString());
        }

        @Override
        public void onClose(Connection c, CloseReason reason) {
            closed.complete(reason);
        }
    }

    private static void assertQuiet(EventLoop loop, String when) throws InterruptedException {
        long before = loop.stats().passes();
        Thread.sleep(300);
        long passes = loop.stats().passes() - before;
        assertTrue(passes < QUIET_PASSES, when + ": the idle loop made " + passes
                + " passes in 300 ms; a loop spinning on a hang-up makes thousands");
    }

    @Test
    @Timeout(60)
    void shouldCloseAConnectionOnceItsInputIsClosedAndItsOutputShutDown() throws Exception {
        Recorder handler = new Recorder() {
            @Override
            public void onInputClosed(Connection c) {
                c.shutdownOutput(); // answers the FIN with its own, and does not close
            }
        };
        EventLoop loop = start(handler);
        try (Socket client = connect(group)) {
            handler.opened.get(10, TimeUnit.SECONDS);
            client.shutdownOutput();
            assertEquals(-1, client.getInputStream().read(), "the server's FIN");
            assertEquals(CloseReason.PEER_CLOSED, handler.closed.get(20, TimeUnit.SECONDS),
                    "no byte can move either way: the connection is closed");
            assertQuiet(loop, "after the close");
        }
    }

    @Test
    @Timeout(60)
    void shouldCloseAConnectionWhoseOutputIsShutWhenItsInputCloses() throws Exception {
        Recorder handler = new Recorder() {
            @Override
            public void onOpen(Connection c) {
                c.shutdownOutput();
                super.onOpen(c);
            }

            @Override
            public void onInputClosed(Connection c) {
                // keeps the connection: the loop must see that nothing is left of it
            }
        };
        EventLoop loop = start(handler);
        try (Socket client = connect(group)) {
            assertEquals(-1, client.getInputStream().read(), "the server's FIN");
            client.shutdownOutput();
            assertEquals(CloseReason.PEER_CLOSED, handler.closed.get(20, TimeUnit.SECONDS));
            assertQuiet(loop, "after the close");
        }
    }

    @Test
    @Timeout(60)
    void shouldKeepWhatAPausedConnectionHoldsWhenBothSidesHaveShutWithoutSpinning() throws Exception {
        Recorder handler = new Recorder() {
            @Override
            public void onOpen(Connection c) {
                c.pauseReading();
                c.shutdownOutput();
                super.onOpen(c);
            }
        };
        EventLoop loop = start(handler);
        try (Socket client = connect(group)) {
            Connection c = handler.opened.get(10, TimeUnit.SECONDS);
            assertEquals(-1, client.getInputStream().read(), "the server's FIN");
            client.getOutputStream().write("tail".getBytes(StandardCharsets.UTF_8));
            client.shutdownOutput(); // both directions are shut now: the socket hangs up
            Thread.sleep(100); // the FIN crosses loopback
            assertQuiet(loop, "a paused connection that hung up");
            assertTrue(handler.closed.getNow(null) == null, "the paused connection is still open");
            loop.execute(c::resumeReading);
            assertEquals("tail", handler.inputClosed.get(20, TimeUnit.SECONDS),
                    "the bytes that waited, then the end of the stream");
        }
    }

    @Test
    @Timeout(60)
    void shouldNotSpinOnAPausedConnectionThatThePeerResetsAndCloseItAtTheLatestOnResume() throws Exception {
        Recorder handler = new Recorder() {
            @Override
            public void onOpen(Connection c) {
                c.pauseReading();
                super.onOpen(c);
            }
        };
        EventLoop loop = start(handler);
        Socket client = connect(group);
        Connection c = handler.opened.get(10, TimeUnit.SECONDS);
        client.setSoLinger(true, 0);
        client.close(); // RST
        Thread.sleep(100); // the reset crosses loopback
        assertQuiet(loop, "a paused connection that was reset");
        loop.execute(() -> {
            if (c.isOpen()) {
                c.resumeReading();
            }
        });
        assertEquals(CloseReason.RESET, handler.closed.get(20, TimeUnit.SECONDS));
    }
}
