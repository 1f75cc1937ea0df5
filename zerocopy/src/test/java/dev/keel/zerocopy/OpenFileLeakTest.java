package dev.keel.zerocopy;

import dev.keel.io.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Descriptors of served files, counted from /proc/self/fd after every shape of request: each
 * file under the root is held open at most once, and all of them together at most the
 * open-file cache's capacity. (Every {@code GET /} used to leave one more descriptor of
 * index.html open: the key stored for "/" was made from the path buffer after "index.html"
 * had been written into it, so it never matched, and each miss replaced the entry before it
 * without closing it.)
 */
@Timeout(180)
class OpenFileLeakTest {
    private static final int EACH = 1000;

    @TempDir
    Path root;
    FileServer server;

    /** The transport under test; the io_uring subclass runs the same tests there. */
    Transport transport() {
        return Transport.EPOLL;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Capacity 3 is smaller than the site (four files): entries are evicted all the time. */
    @ParameterizedTest(name = "cache of {0}")
    @ValueSource(ints = {1024, 3})
    void shouldHoldEachFileAtMostOnceAndNoMoreThanTheCapacityAfterEveryShapeOfRequest(int capacity) throws Exception {
        RequestShapes.writeSite(root);
        server = FileServer.builder().root(root).transport(transport()).loops(1)
                .fileCache(capacity, Duration.ofSeconds(1)).start();
        try (RequestShapes client = new RequestShapes(server.port(), root)) {
            for (RequestShapes.Shape shape : RequestShapes.Shape.values()) {
                client.send(shape, EACH);
                assertHeldAtMostOnce(capacity, "after " + EACH + " of " + shape);
            }
            client.send(RequestShapes.Shape.ROOT);
        }
        assertHeldAtMostOnce(capacity, "at the end");
    }

    private void assertHeldAtMostOnce(int capacity, String when) throws Exception {
        Map<String, Integer> held = RequestShapes.filesHeld(ProcessHandle.current().pid(), root);
        int total = held.values().stream().mapToInt(Integer::intValue).sum();
        assertTrue(held.values().stream().allMatch(n -> n <= 1) && total <= capacity,
                "descriptors of files under the root " + when + ": " + held + " (capacity " + capacity + ")");
    }
}
