package dev.keel.zerocopy.http;

import dev.keel.ffm.Files;
import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;
import dev.keel.io.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_DIRECTORY;
import static dev.keel.ffm.gen.LinuxConstants.O_PATH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The file server's handler called for a connection it never saw open (io-core promises
 * {@code onClose} only after {@code onOpen}, but a registration that failed once broke that):
 * no NullPointerException on the loop, nothing released that was never taken, the connection
 * closed. (It used to dereference the missing session.)
 */
@Timeout(30)
class NoSessionTest {
    @TempDir
    Path root;

    @Test
    void shouldTakeEveryCallWithoutASessionQuietly() throws Exception {
        int rootFd = Files.open(root.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            ServerConfig config = new ServerConfig(rootFd, false, true, 1000, 8192, 16 * 1024, 100, 64 * 1024, 0, 16,
                    1_000_000_000L, 8192, 1 << 20, null, "b".getBytes(), null, null, false);
            StaticFileHandler files = new StaticFileHandler(config, 1, 16 * 1024);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            ConnectionHandler withoutOpen = new ConnectionHandler() {
                @Override
                public void onOpen(Connection c) {
                    try {
                        files.onData(c, MemorySegment.ofArray(new byte[] {'G'}));
                        files.onWritable(c);
                        files.onInputClosed(c);
                        files.onClose(c, CloseReason.ERROR);
                        outcome.complete(null);
                    } catch (Throwable t) {
                        outcome.complete(t);
                    }
                }

                @Override
                public void onData(Connection c, MemorySegment data) {
                }
            };
            try (EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(withoutOpen).start();
                 Socket s = new Socket("127.0.0.1", group.port())) {
                assertNull(outcome.get(10, TimeUnit.SECONDS), "every call without a session is taken quietly");
                s.setSoTimeout(10_000);
                assertEquals(-1, s.getInputStream().read(), "and the connection is closed");
                assertEquals(0, group.loops().get(0).stats().handlerFailures());
            }
        } finally {
            Files.close(rootFd);
        }
    }
}
