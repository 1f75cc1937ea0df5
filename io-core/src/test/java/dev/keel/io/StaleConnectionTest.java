package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A closed connection's descriptor number and user area may already be another connection's:
 * every method of a closed {@link Connection} but {@code isOpen} throws
 * {@link StaleHandleException}, as the class promises.
 */
class StaleConnectionTest {
    @Test
    @Timeout(60)
    void shouldRefuseTheDescriptorAndUserAreaOfAClosedConnection() throws Exception {
        CompletableFuture<Connection> closed = new CompletableFuture<>();
        ConnectionHandler handler = new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                c.close();
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                closed.complete(c);
            }
        };
        LoopOptions options = LoopOptions.builder().userAreaBytes(16).build();
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().options(options).handler(handler).start();
             Socket client = connect(group)) {
            EventLoop loop = group.loops().get(0);
            client.getOutputStream().write('x');
            assertEquals(-1, client.getInputStream().read());
            Connection c = closed.get(10, TimeUnit.SECONDS);
            assertTrue(onLoop(loop, () -> {
                assertFalse(c.isOpen());
                assertThrows(StaleHandleException.class, c::fd, "fd() of a closed connection");
                assertThrows(StaleHandleException.class, c::userArea, "userArea() of a closed connection");
                return true;
            }));
        }
    }
}
