package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.zerocopy.testing.Descriptors;

import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The file server's HTTP behaviour, seen by java.net.http and by a raw socket client. */
@Timeout(60)
class FileServerTest {
    @TempDir
    Path root;
    FileServer server;
    HttpClient client;
    byte[] data;
    byte[] big;
    static final String INDEX = "<!DOCTYPE html><title>home</title>\n";

    @BeforeEach
    void setUp() throws IOException {
        Files.writeString(root.resolve("index.html"), INDEX);
        Files.writeString(root.resolve("style.css"), "body { color: black }\n");
        data = new byte[100_000];
        new Random(1).nextBytes(data);
        Files.write(root.resolve("data.bin"), data);
        big = new byte[5 * 1024 * 1024 + 17];
        new Random(2).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/index.html"), "docs home\n");
        Files.createDirectories(root.resolve("empty"));
        Files.write(root.resolve("zero.txt"), new byte[0]);
        Files.writeString(root.resolve("with space.txt"), "spaced\n");
        Files.setLastModifiedTime(root.resolve("data.bin"), FileTime.from(Instant.parse("2024-03-01T12:00:00Z")));
        server = builder().loops(2).start();
        assertEquals(transport(), server.transport(), "the server runs on the transport asked for");
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The transport under test; subclasses run the whole suite on another. */
    Transport transport() {
        return Transport.EPOLL;
    }

    FileServer.Builder builder() {
        return FileServer.builder().root(root).transport(transport());
    }

    @AfterEach
    void tearDown() {
        client.close();
        server.close();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void shouldServeFileBytesWithTypeLengthValidatorsDateAndServer() throws Exception {
        HttpResponse<byte[]> r = get("/data.bin");
        assertEquals(200, r.statusCode());
        assertArrayEquals(data, r.body());
        assertEquals("application/octet-stream", r.headers().firstValue("content-type").orElseThrow());
        assertEquals(String.valueOf(data.length), r.headers().firstValue("content-length").orElseThrow());
        assertEquals("Fri, 01 Mar 2024 12:00:00 GMT", r.headers().firstValue("last-modified").orElseThrow());
        assertTrue(r.headers().firstValue("etag").orElseThrow().matches("\"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\""));
        assertEquals("bytes", r.headers().firstValue("accept-ranges").orElseThrow());
        assertEquals("keel", r.headers().firstValue("server").orElseThrow());
        ZonedDateTime date = ZonedDateTime.parse(r.headers().firstValue("date").orElseThrow(),
                DateTimeFormatter.RFC_1123_DATE_TIME);
        assertTrue(Math.abs(Duration.between(date.toInstant(), Instant.now()).toSeconds()) < 5, "Date is now");
    }

    @Test
    void shouldServeAFileLargerThanTheSocketBufferWithSendfileInChunks() throws Exception {
        HttpResponse<byte[]> r = get("/big.bin");
        assertEquals(200, r.statusCode());
        assertArrayEquals(big, r.body());
    }

    @Test
    void shouldServeTheSameBytesOverIoUringWithDirectDescriptors() throws Exception {
        IoUringAvailable.assume();
        try (FileServer spliced = builder().transport(Transport.IO_URING).start()) {
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + spliced.port() + "/big.bin")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertArrayEquals(big, r.body());
            try (RawHttp h = new RawHttp(spliced.port())) {
                h.send("GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-1999\r\n\r\n");
                RawHttp.Response p = h.read();
                assertEquals(206, p.status());
                assertArrayEquals(Arrays.copyOfRange(big, 1000, 2000), p.body());
            }
        }
    }

    @Test
    void shouldServeRangesOfAFileLargerThanTwoGibibytes() throws Exception {
        long size = 3L * 1024 * 1024 * 1024 + 7;
        byte[] tail = new byte[4096];
        new Random(5).nextBytes(tail);
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(root.resolve("huge.iso").toFile(), "rw")) {
            raf.setLength(size); // sparse
            raf.seek(size - tail.length);
            raf.write(tail);
        }
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("HEAD /huge.iso HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(String.valueOf(size), h.read(true).header("content-length"));
            h.send("GET /huge.iso HTTP/1.1\r\nHost: x\r\nRange: bytes=" + (size - tail.length) + "-\r\n\r\n");
            RawHttp.Response r = h.read();
            assertEquals(206, r.status());
            assertEquals("bytes " + (size - tail.length) + "-" + (size - 1) + "/" + size, r.header("content-range"));
            assertArrayEquals(tail, r.body());
            h.send("GET /huge.iso HTTP/1.1\r\nHost: x\r\nRange: bytes=2147483640-2147483655\r\n\r\n");
            assertArrayEquals(new byte[16], h.read().body(), "the hole across the 2 GiB mark reads as zeros");
        }
    }

    @Test
    void shouldGiveContentTypesFromTheExtensionWithCharsetForText() throws Exception {
        assertEquals("text/html; charset=utf-8", get("/index.html").headers().firstValue("content-type").orElseThrow());
        assertEquals("text/css; charset=utf-8", get("/style.css").headers().firstValue("content-type").orElseThrow());
        assertEquals("text/plain; charset=utf-8",
                get("/with%20space.txt").headers().firstValue("content-type").orElseThrow());
    }

    @Test
    void shouldAnswerHeadWithTheHeadersOfGetAndNoBody() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("HEAD /data.bin HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response head = h.read(true);
            assertEquals(200, head.status());
            assertEquals(String.valueOf(data.length), head.header("content-length"));
            h.get("/style.css"); // the next answer follows at once: HEAD sent no body
            RawHttp.Response next = h.read();
            assertEquals("body { color: black }\n", next.text());
        }
        HttpResponse<Void> r = client.send(HttpRequest.newBuilder(uri("/data.bin"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, r.statusCode());
    }

    @Test
    void shouldServeIndexHtmlForADirectoryAndRedirectOneAskedWithoutItsSlash() throws Exception {
        assertEquals(INDEX, new String(get("/").body(), StandardCharsets.UTF_8));
        assertEquals("docs home\n", new String(get("/docs/").body(), StandardCharsets.UTF_8));
        RawHttp.Response r = RawHttp.exchange(server.port(), "GET /docs?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(301, r.status());
        assertEquals("/docs/?x=1", r.header("location"));
        assertEquals(403, RawHttp.exchange(server.port(), "GET /empty/ HTTP/1.1\r\nHost: h\r\n\r\n").status());
    }

    @Test
    void shouldAnswerOneRangeWith206AndContentRange() throws Exception {
        HttpResponse<byte[]> r = get("/data.bin", "Range", "bytes=100-199");
        assertEquals(206, r.statusCode());
        assertEquals("bytes 100-199/" + data.length, r.headers().firstValue("content-range").orElseThrow());
        assertArrayEquals(Arrays.copyOfRange(data, 100, 200), r.body());
        HttpResponse<byte[]> suffix = get("/data.bin", "Range", "bytes=-10");
        assertArrayEquals(Arrays.copyOfRange(data, data.length - 10, data.length), suffix.body());
        HttpResponse<byte[]> open = get("/data.bin", "Range", "bytes=99990-");
        assertEquals("bytes 99990-99999/100000", open.headers().firstValue("content-range").orElseThrow());
        assertArrayEquals(Arrays.copyOfRange(data, 99_990, 100_000), open.body());
        HttpResponse<byte[]> clipped = get("/data.bin", "Range", "bytes=99995-200000");
        assertArrayEquals(Arrays.copyOfRange(data, 99_995, 100_000), clipped.body());
    }

    @Test
    void shouldAnswerAnUnsatisfiableRangeWith416AndTheLength() throws Exception {
        HttpResponse<byte[]> r = get("/data.bin", "Range", "bytes=100000-");
        assertEquals(416, r.statusCode());
        assertEquals("bytes */100000", r.headers().firstValue("content-range").orElseThrow());
        assertEquals(416, get("/zero.txt", "Range", "bytes=0-0").statusCode());
    }

    @Test
    void shouldIgnoreAMalformedRangeAndSendTheWholeFile() throws Exception {
        for (String range : new String[] {"bytes=5-1", "pages=1-2", "bytes=abc", "bytes=1-2-3"}) {
            HttpResponse<byte[]> r = get("/data.bin", "Range", range);
            assertEquals(200, r.statusCode(), range);
            assertArrayEquals(data, r.body(), range);
        }
    }

    @Test
    void shouldAnswerSeveralRangesAsMultipartByteranges() throws Exception {
        HttpResponse<byte[]> r = get("/data.bin", "Range", "bytes=0-9, 500-509,-5");
        assertEquals(206, r.statusCode());
        String type = r.headers().firstValue("content-type").orElseThrow();
        assertTrue(type.startsWith("multipart/byteranges; boundary="), type);
        String boundary = type.substring(type.indexOf('=') + 1);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        long[][] parts = {{0, 9}, {500, 509}, {99_995, 99_999}};
        for (long[] p : parts) {
            expected.writeBytes(("\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Range: bytes " + p[0] + "-" + p[1] + "/100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            expected.writeBytes(Arrays.copyOfRange(data, (int) p[0], (int) p[1] + 1));
        }
        expected.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(expected.toByteArray(), r.body());
        assertEquals(String.valueOf(expected.size()), r.headers().firstValue("content-length").orElseThrow());
    }

    @Test
    void shouldSendTheWholeFileWhenRangesAddUpPastIt() throws Exception {
        HttpResponse<byte[]> r = get("/data.bin", "Range", "bytes=0-99999,0-99999");
        assertEquals(200, r.statusCode());
        assertArrayEquals(data, r.body());
    }

    @Test
    void shouldHonourIfRangeOnlyWhenTheValidatorMatches() throws Exception {
        String etag = get("/data.bin").headers().firstValue("etag").orElseThrow();
        assertEquals(206, get("/data.bin", "Range", "bytes=0-0", "If-Range", etag).statusCode());
        assertEquals(206, get("/data.bin", "Range", "bytes=0-0", "If-Range", "Fri, 01 Mar 2024 12:00:00 GMT").statusCode());
        HttpResponse<byte[]> stale = get("/data.bin", "Range", "bytes=0-0", "If-Range", "\"other\"");
        assertEquals(200, stale.statusCode());
        assertArrayEquals(data, stale.body());
        assertEquals(200, get("/data.bin", "Range", "bytes=0-0", "If-Range", "Fri, 01 Mar 2024 11:00:00 GMT").statusCode());
        assertEquals(200, get("/data.bin", "Range", "bytes=0-0", "If-Range", "W/" + etag).statusCode());
    }

    @Test
    void shouldAnswer304ForAMatchingIfNoneMatchAndSendTheFileOtherwise() throws Exception {
        String etag = get("/data.bin").headers().firstValue("etag").orElseThrow();
        HttpResponse<byte[]> r = get("/data.bin", "If-None-Match", "\"nope\", " + etag);
        assertEquals(304, r.statusCode());
        assertEquals(0, r.body().length);
        assertEquals(etag, r.headers().firstValue("etag").orElseThrow());
        assertEquals(304, get("/data.bin", "If-None-Match", "W/" + etag).statusCode());
        assertEquals(304, get("/data.bin", "If-None-Match", "*").statusCode());
        assertEquals(200, get("/data.bin", "If-None-Match", "\"nope\"").statusCode());
        // If-None-Match decides even when If-Modified-Since alone would say 304 (RFC 9110 13.2.2).
        assertEquals(200, get("/data.bin", "If-None-Match", "\"nope\"",
                "If-Modified-Since", "Sat, 01 Mar 2025 12:00:00 GMT").statusCode());
    }

    @Test
    void shouldAnswer304ForIfModifiedSinceAtOrAfterTheModification() throws Exception {
        assertEquals(304, get("/data.bin", "If-Modified-Since", "Fri, 01 Mar 2024 12:00:00 GMT").statusCode());
        assertEquals(304, get("/data.bin", "If-Modified-Since", "Friday, 01-Mar-24 12:00:01 GMT").statusCode());
        assertEquals(304, get("/data.bin", "If-Modified-Since", "Fri Mar  1 12:00:00 2024").statusCode());
        assertEquals(200, get("/data.bin", "If-Modified-Since", "Fri, 01 Mar 2024 11:59:59 GMT").statusCode());
        assertEquals(200, get("/data.bin", "If-Modified-Since", "yesterday").statusCode());
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrderOnOneConnection() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            StringBuilder batch = new StringBuilder();
            String[] paths = {"/style.css", "/big.bin", "/index.html", "/missing", "/data.bin", "/docs/", "/style.css"};
            for (String p : paths) {
                batch.append("GET ").append(p).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
            }
            h.send(batch.toString());
            assertEquals("body { color: black }\n", h.read().text());
            assertArrayEquals(big, h.read().body());
            assertEquals(INDEX, h.read().text());
            assertEquals(404, h.read().status());
            assertArrayEquals(data, h.read().body());
            assertEquals("docs home\n", h.read().text());
            assertEquals("body { color: black }\n", h.read().text());
        }
    }

    @Test
    void shouldParseARequestSplitAcrossManyPackets() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            byte[] req = "GET /style.css HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            for (byte b : req) {
                h.send(new byte[] {b});
                Thread.sleep(1);
            }
            assertEquals("body { color: black }\n", h.read().text());
        }
    }

    @Test
    void shouldCloseAfterTheAnswerWhenTheClientAsksOrTheLimitIsReached() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            RawHttp.Response r = h.read();
            assertEquals("close", r.header("connection"));
            assertTrue(h.closedByServer());
        }
        try (FileServer limited = builder().maxRequestsPerConnection(3).start();
             RawHttp h = new RawHttp(limited.port())) {
            for (int i = 0; i < 3; i++) {
                h.get("/style.css");
                RawHttp.Response r = h.read();
                assertEquals(200, r.status());
                assertEquals(i == 2 ? "close" : null, r.header("connection"));
            }
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void shouldKeepAnHttp10ConnectionOnlyWhenAskedAndSayKeepAlive() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("keep-alive", h.read().header("connection"));
            h.send("GET /style.css HTTP/1.0\r\n\r\n");
            assertEquals("close", h.read().header("connection"));
            assertTrue(h.closedByServer());
        }
    }

    @Test
    void shouldCloseAnIdleKeepAliveConnectionAfterTheIdleTimeout() throws Exception {
        try (FileServer quick = builder().options(FileServer.loopOptions()
                .idleTimeout(Duration.ofMillis(300)).build()).start();
             RawHttp h = new RawHttp(quick.port())) {
            h.get("/style.css");
            assertEquals(200, h.read().status());
            long start = System.nanoTime();
            assertTrue(h.closedByServer());
            long waited = (System.nanoTime() - start) / 1_000_000;
            assertTrue(waited >= 200 && waited < 5000, "closed after " + waited + " ms");
        }
    }

    @Test
    void shouldRefuseLoopOptionsWhoseReadBuffersCannotHoldARequestHead() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder().options(LoopOptions.builder().readBufferBytes(4096).build()));
        assertTrue(e.getMessage().contains("readBufferBytes 4096"), e.getMessage());
    }

    @Test
    void shouldAnswerOtherMethodsWith405AndAllowAndUnknownOnesWith501() throws Exception {
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(uri("/index.html"))
                .POST(HttpRequest.BodyPublishers.ofString("a=b")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("allow").orElseThrow());
        try (RawHttp h = new RawHttp(server.port())) {
            // The body of the refused request is skipped and the connection goes on.
            h.send("DELETE /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(405, h.read().status());
            assertEquals(200, h.read().status());
        }
        RawHttp.Response brew = RawHttp.exchange(server.port(), "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(501, brew.status());
    }

    @Test
    void shouldServeAFileOfTheSameNameAgainAfterItWasReplaced() throws Exception {
        try (FileServer fresh = builder().fileCache(16, Duration.ofMillis(50)).start()) {
            int port = fresh.port();
            assertEquals("body { color: black }\n", RawHttp.exchange(port, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n").text());
            Path tmp = root.resolve("style.css.new");
            Files.writeString(tmp, "body { color: red; }\n");
            Files.move(tmp, root.resolve("style.css"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Thread.sleep(120);
            assertEquals("body { color: red; }\n", RawHttp.exchange(port, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n").text());
            Files.delete(root.resolve("style.css"));
            Thread.sleep(120);
            assertEquals(404, RawHttp.exchange(port, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n").status());
        }
    }

    @Test
    void shouldKeepNoMoreFilesOpenThanTheCacheHoldsAndCloseThemAtTheEnd() throws Exception {
        for (int i = 0; i < 20; i++) {
            Files.writeString(root.resolve("f" + i + ".txt"), "file " + i + "\n");
        }
        long before = Descriptors.open();
        try (FileServer bounded = builder().fileCache(3, Duration.ofMinutes(1)).start()) {
            long started = Descriptors.open();
            try (RawHttp h = new RawHttp(bounded.port())) {
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < 20; i++) {
                        h.get("/f" + i + ".txt");
                        assertEquals("file " + i + "\n", h.read().text());
                    }
                }
                // Both ends of this connection (client and server live in this JVM), plus three
                // cached files at most.
                assertTrue(Descriptors.open() <= started + 2 + 3,
                        (Descriptors.open() - started) + " more descriptors");
            }
        }
        assertEquals(before, Descriptors.open(), "every descriptor closed with the server");
    }

    @Test
    void shouldAnswerAnAbsoluteFormTargetAndIgnoreTheQuery() throws Exception {
        RawHttp.Response r = RawHttp.exchange(server.port(),
                "GET http://localhost/style.css?v=3 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertEquals(200, r.status());
        assertEquals("body { color: black }\n", r.text());
    }

    @Test
    void shouldWriteAnAccessLogLineForEachRequestWhenEnabled() throws Exception {
        Path log = root.resolveSibling(root.getFileName() + "-access.log");
        // Peers are logged from a descriptor: on io_uring, without direct descriptors.
        try (FileServer logged = builder().accessLog(log)
                .options(FileServer.loopOptions().directDescriptors(false).build()).start()) {
            RawHttp.exchange(logged.port(), "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.exchange(logged.port(), "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        String text = Files.readString(log);
        Files.delete(log);
        String[] lines = text.split("\n");
        assertEquals(2, lines.length, text);
        assertTrue(lines[0].matches("127\\.0\\.0\\.1 \\[.* GMT\\] \"GET /style.css HTTP/1.1\" 200 22"), lines[0]);
        assertTrue(lines[1].endsWith("\"GET /nothing HTTP/1.1\" 404 " + Status.page(404).length), lines[1]);
    }
}
