package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.io.testing.LoopAllocations;
import dev.keel.io.Transport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Rule 4 for the file server: in steady state its loop thread allocates nothing per request,
 * whichever way the answer leaves (a small file from memory with one writev, a larger one by
 * sendfile, a range, a 304, a 404, a HEAD), measured with the thread's allocated-bytes counter.
 */
class FileServerAllocationTest {
    private static final int SMALL = 700;
    private static final int LARGE = 40_000;

    @TempDir
    Path root;

    /** The transport under test; a subclass runs the same on io_uring. */
    Transport transport() {
        return Transport.EPOLL;
    }

    /** Each kind of answer on its own, so that a failure names the path that allocates. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"small file from memory", "file by sendfile", "range", "not modified", "not found", "head"})
    @Timeout(150)
    void shouldAllocateNothingOnTheLoopThreadPerRequest(String kind) throws Exception {
        Random random = new Random(7);
        byte[] small = new byte[SMALL];
        byte[] large = new byte[LARGE];
        random.nextBytes(small);
        random.nextBytes(large);
        Files.write(root.resolve("small.bin"), small);
        Files.write(root.resolve("large.bin"), large);
        // Revalidation of a cached file (once a second) is cold code, run interpreted until
        // compiled much later, and may allocate a few bytes a second; it is not per request,
        // so the cache is told to keep its files for the length of the test.
        try (FileServer server = FileServer.builder().root(root).transport(transport())
                .fileCache(1024, Duration.ofMinutes(10)).maxRequestsPerConnection(Integer.MAX_VALUE).start();
             RawHttp client = new RawHttp(server.port())) {
            assertEquals(transport(), server.transport());
            Exchange exchange = exchange(kind, client.get("/large.bin").read().header("etag"), small, large);
            LoopAllocations.assertNoneAllocated(server.group().loops().get(0).thread(), 10_000,
                    "requests (" + kind + ")", i -> exchange.run(client));
        }
    }

    /** One request and the check of its answer. */
    private interface Exchange {
        void run(RawHttp client) throws IOException;
    }

    private static Exchange exchange(String kind, String etag, byte[] small, byte[] large) {
        return switch (kind) {
            case "small file from memory" -> c -> expectBody(c.get("/small.bin").read(), 200, small, 0, SMALL);
            case "file by sendfile" -> c -> expectBody(c.get("/large.bin").read(), 200, large, 0, LARGE);
            case "range" -> c -> expectBody(c.send("GET /large.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-1099\r\n\r\n")
                    .read(), 206, large, 100, 1000);
            case "not modified" -> c -> assertEquals(304, c.send("GET /large.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: "
                    + etag + "\r\n\r\n").read().status());
            case "not found" -> c -> assertEquals(404, c.get("/missing").read().status());
            case "head" -> c -> {
                RawHttp.Response head = c.send("HEAD /small.bin HTTP/1.1\r\nHost: x\r\n\r\n").read(true);
                assertEquals(200, head.status());
                assertEquals(String.valueOf(SMALL), head.header("content-length"));
            };
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private static void expectBody(RawHttp.Response r, int status, byte[] file, int from, int length) {
        assertEquals(status, r.status(), r.statusLine());
        assertEquals(length, r.body().length);
        for (int i = 0; i < length; i += 97) {
            if (r.body()[i] != file[from + i]) {
                throw new AssertionError("byte " + i + " differs");
            }
        }
    }
}
