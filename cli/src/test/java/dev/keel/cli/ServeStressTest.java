package dev.keel.cli;

import dev.keel.io.testing.ResourceSnapshot;
import dev.keel.io.Transport;
import dev.keel.zerocopy.testing.RequestShapes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code keel serve} under {@code ulimit -n 256} answering every shape of request in turn
 * ({@link RequestShapes}: /, /dir/, a file, HEAD, ranges, multipart ranges, 304s, If-Range,
 * 403, 404, 405, 413, 414, 431, Connection: close, pipelines; keep-alive throughout):
 * 2,000 requests in {@code make test}, 1,000,000 under {@code make stress}, on epoll and on
 * io_uring. Every answer is checked (no error answer where none is due, every body right),
 * and the server's descriptors are the same at the end as at the start, give or take the
 * files its open-file cache keeps, within their stated bound. (A leak of one descriptor per
 * {@code GET /} used to turn every answer into a 503 after about 200 requests here.)
 */
class ServeStressTest {
    private static final int OPEN_FILES = 1024;

    @TempDir
    Path root;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"epoll", "io_uring"})
    @Timeout(1800)
    void shouldAnswerEveryShapeUnderALowDescriptorLimitWithDescriptorsFlat(String transport) throws Exception {
        if (transport.equals("io_uring")) {
            String why = Transport.ioUringUnavailableReason();
            Assumptions.assumeTrue(why == null, () -> "io_uring not testable here: " + why);
        }
        boolean full = Boolean.getBoolean("keel.stress");
        long requests = full ? 1_000_000 : 2_000;
        int clients = full ? 4 : 1;
        RequestShapes.writeSite(root);
        try (KeelProcess keel = KeelProcess.start(256, Keel.class.getName(), "serve", "--root", root.toString(),
                "--port", "0", "--transport", transport, "--loops", "1", "--open-files", Integer.toString(OPEN_FILES))) {
            try (RequestShapes warm = new RequestShapes(keel.port, root)) {
                warm.mixed(RequestShapes.Shape.values().length); // every file cached once, every class loaded
            }
            Thread.sleep(500);
            ResourceSnapshot before = keel.snapshot();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<Long>> done = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    done.add(pool.submit(() -> {
                        try (RequestShapes client = new RequestShapes(keel.port, root)) {
                            client.mixed(requests / clients);
                            return client.requests();
                        }
                    }));
                }
                for (Future<Long> f : done) {
                    f.get(); // a wrong answer fails here, with what was wrong
                }
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(10, TimeUnit.SECONDS);
            }
            assertDescriptorsBack(keel, before);
        }
    }

    private void assertDescriptorsBack(KeelProcess keel, ResourceSnapshot before) throws Exception {
        ResourceSnapshot.FileBound bound = new ResourceSnapshot.FileBound(root, OPEN_FILES, 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> grown;
        do {
            Thread.sleep(100); // the last connections' lingering closes
            grown = descriptors(keel.snapshot().growthSince(before, 0, bound));
        } while (!grown.isEmpty() && System.nanoTime() < deadline);
        assertEquals(List.of(), grown, "descriptors of keel serve at the end, against the start: " + before.files());
    }

    /** Descriptors and files only: the child JVM's own threads come and go (attach listener, cleaners). */
    private static List<String> descriptors(List<String> grown) {
        return grown.stream().filter(g -> g.startsWith("descriptors") || g.startsWith("file")).toList();
    }
}
