package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.zerocopy.testing.Descriptors;

import dev.keel.io.Transport;
import dev.keel.io.EventLoop;
import dev.keel.io.LoopStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many clients at once: every byte of 1,000 concurrent downloads checked, and clients that
 * reset in the middle of a transfer leave nothing open behind them.
 */
class DownloadLoadTest {
    static final int FILE_BYTES = 16 * 1024 * 1024;
    static final int DOWNLOADS = 1000;

    @TempDir
    static Path root;
    static FileServer server;
    static byte[] expectedSha256;

    /** The transport of the server under test: subclasses start on another. */
    static Transport transport = Transport.EPOLL;

    @BeforeAll
    static void start() throws Exception {
        startOn(Transport.EPOLL);
    }

    static void startOn(Transport t) throws Exception {
        transport = t;
        byte[] content = new byte[FILE_BYTES];
        new Random(16).nextBytes(content);
        Files.write(root.resolve("sixteen.bin"), content);
        expectedSha256 = MessageDigest.getInstance("SHA-256").digest(content);
        server = FileServer.builder().root(root).transport(transport).loops(2).start();
        assertEquals(t, server.transport(), "the server runs on the transport asked for");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /**
     * All 1,000 connections are opened and their requests sent before any answer is read, so
     * the server holds 1,000 transfers in flight at once; the clients then read them on
     * virtual threads (one per download, the JDK multiplexing them over the two cores), each
     * hashing the body as it arrives.
     */
    @Test
    @Timeout(180)
    void shouldCompleteAThousandConcurrentDownloadsOfSixteenMegabytesWithTheRightDigest() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < DOWNLOADS; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
                s.setSoTimeout(60_000);
                s.getOutputStream().write("GET /sixteen.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                sockets.add(s);
            }
            List<Future<byte[]>> digests = new ArrayList<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (Socket s : sockets) {
                    digests.add(clients.submit(() -> download(s)));
                }
                int ok = 0;
                for (Future<byte[]> f : digests) {
                    assertArrayEquals(expectedSha256, f.get(150, TimeUnit.SECONDS), "SHA-256 of a download");
                    ok++;
                }
                assertEquals(DOWNLOADS, ok);
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Reads one answer of {@link #FILE_BYTES} and returns the SHA-256 of its body. */
    private static byte[] download(Socket s) throws Exception {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[64 * 1024];
        int headEnd = -1;
        int have = 0;
        while (headEnd < 0) {
            int n = in.read(buf, have, buf.length - have);
            if (n < 0) {
                throw new IOException("closed before the head ended");
            }
            have += n;
            headEnd = indexOfEmptyLine(buf, have);
        }
        String head = new String(buf, 0, headEnd, StandardCharsets.US_ASCII);
        if (!head.startsWith("HTTP/1.1 200 ") || !head.contains("Content-Length: " + FILE_BYTES + "\r\n")) {
            throw new IOException("unexpected head: " + head);
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(buf, headEnd, have - headEnd);
        long body = have - headEnd;
        while (body < FILE_BYTES) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, FILE_BYTES - body));
            if (n < 0) {
                throw new IOException("closed after " + body + " body bytes");
            }
            sha.update(buf, 0, n);
            body += n;
        }
        return sha.digest();
    }

    private static int indexOfEmptyLine(byte[] b, int n) {
        for (int i = 3; i < n; i++) {
            if (b[i - 3] == '\r' && b[i - 2] == '\n' && b[i - 1] == '\r' && b[i] == '\n') {
                return i + 1;
            }
        }
        return -1;
    }

    /**
     * Against the default server and one without a file cache (each request opens and must
     * close its file); on io_uring the bodies go through the transport's pooled pipes.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"cached", "no cache"})
    @Timeout(60)
    void shouldLeaveNoDescriptorOpenWhenClientsResetMidTransfer(String kind) throws Exception {
        FileServer.Builder b = FileServer.builder().root(root).transport(transport).loops(2);
        if (kind.equals("no cache")) {
            b.fileCache(0, Duration.ofSeconds(1));
        }
        try (FileServer srv = b.start()) {
            // Warm up: the file is now in the loops' caches, whose descriptors stay (and are counted).
            for (int i = 0; i < 4; i++) {
                try (Socket s = connect(srv)) {
                    s.getOutputStream().write("GET /sixteen.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getInputStream().readNBytes(10);
                }
            }
            LongSupplier closed = () -> srv.group().loops().stream().map(EventLoop::stats).mapToLong(LoopStats::closed).sum();
            LongSupplier accepted = () -> srv.group().loops().stream().map(EventLoop::stats).mapToLong(LoopStats::accepted).sum();
            await(() -> closed.getAsLong() == accepted.getAsLong());
            long baseline = Descriptors.open();
            String before = Arrays.toString(Descriptors.list());
            int pipesBefore = held(srv, false);
            int cachedBefore = held(srv, true);
            for (int round = 0; round < 50; round++) {
                try (Socket s = connect(srv)) {
                    s.getOutputStream().write("GET /sixteen.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    byte[] some = s.getInputStream().readNBytes(100_000 + round * 1000);
                    assertEquals(100_000 + round * 1000, some.length);
                    s.setSoLinger(true, 0); // close with RST, the transfer half done
                }
            }
            await(() -> closed.getAsLong() == accepted.getAsLong());
            // A pipe left holding bytes by a reset is closed, not pooled: the pools may shrink.
            int pipesClosed = pipesBefore - held(srv, false);
            assertTrue(pipesClosed >= 0, "pipes opened and kept: " + -pipesClosed);
            // A loop that had not served the file before has it in its cache now (one descriptor).
            int newlyCached = held(srv, true) - cachedBefore;
            long expected = baseline - 2L * pipesClosed + newlyCached;
            awaitQuietly(() -> Descriptors.open() == expected);
            assertEquals(expected, Descriptors.open(),
                    "descriptors before: " + before + "\nafter 50 resets: " + Arrays.toString(Descriptors.list()));
            // ... and the server still answers.
            try (RawHttp h = new RawHttp(srv.port())) {
                h.send("GET /sixteen.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=-3\r\n\r\n");
                assertEquals(206, h.read().status());
            }
        }
    }

    /**
     * Files in the loops' caches ({@code files}), or pipes their transports hold for file
     * bodies (as of the loop's last pass). Read on each loop's own thread.
     */
    private static int held(FileServer srv, boolean files) throws Exception {
        int total = 0;
        for (EventLoop loop : srv.group().loops()) {
            CompletableFuture<int[]> f = new CompletableFuture<>();
            loop.execute(() -> {
                LoopResources r = srv.resources(loop.index());
                f.complete(new int[] {(int) loop.stats().filePipes(), r == null ? 0 : r.cache.size()});
            });
            int[] counts = f.get(10, TimeUnit.SECONDS);
            total += files ? counts[1] : counts[0];
        }
        return total;
    }

    private static Socket connect(FileServer srv) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", srv.port()), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static void awaitQuietly(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), "condition not met within 20 s");
    }
}
