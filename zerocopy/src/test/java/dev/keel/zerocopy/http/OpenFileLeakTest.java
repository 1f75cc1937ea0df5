package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.zerocopy.testing.RequestShapes;
import dev.keel.io.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /**
     * index.html replaced 100 times between requests, by a new file renamed over it (new
     * inode) and by a rewrite in place (new size and modification time): with a validity of
     * zero every answer is the new content, and the descriptors stay flat (the old file's
     * descriptor is closed when its entry is found changed, not kept as "(deleted)").
     */
    @ParameterizedTest(name = "cache of {0}")
    @ValueSource(ints = {1024, 1})
    void shouldServeAReplacedFileFreshAndKeepItsDescriptorsFlat(int capacity) throws Exception {
        RequestShapes.writeSite(root);
        server = FileServer.builder().root(root).transport(transport()).loops(1)
                .fileCache(capacity, Duration.ZERO).start();
        Path index = root.resolve("index.html");
        FileTime base = Files.getLastModifiedTime(index);
        int flat = -1;
        try (RawHttp h = new RawHttp(server.port())) {
            for (int i = 0; i < 100; i++) {
                String content = "<p>version " + i + "</p>" + "x".repeat(i % 7 * 1000) + "\n";
                if (i % 2 == 0) {
                    Path next = root.resolve("index.html.new");
                    Files.writeString(next, content);
                    Files.move(next, index, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    Files.writeString(index, content); // same inode, truncated and rewritten
                    Files.setLastModifiedTime(index, FileTime.from(base.toInstant().plusSeconds(i)));
                }
                for (String target : new String[] {"/", "/index.html"}) {
                    RawHttp.Response r = h.get(target).read();
                    assertEquals(200, r.status(), target + " after replacement " + i);
                    assertEquals(content, r.text(), target + " after replacement " + i);
                }
                Map<String, Integer> held = RequestShapes.filesHeld(ProcessHandle.current().pid(), root);
                int total = held.values().stream().mapToInt(Integer::intValue).sum();
                assertTrue(total <= Math.min(capacity, 2) && !held.toString().contains("deleted"),
                        "descriptors after replacement " + i + ": " + held);
                if (flat < 0) {
                    flat = total;
                }
                assertEquals(flat, total, "descriptors after replacement " + i + ": " + held);
            }
        }
    }

    private void assertHeldAtMostOnce(int capacity, String when) throws Exception {
        Map<String, Integer> held = RequestShapes.filesHeld(ProcessHandle.current().pid(), root);
        int total = held.values().stream().mapToInt(Integer::intValue).sum();
        assertTrue(held.values().stream().allMatch(n -> n <= 1) && total <= capacity,
                "descriptors of files under the root " + when + ": " + held + " (capacity " + capacity + ")");
    }
}
