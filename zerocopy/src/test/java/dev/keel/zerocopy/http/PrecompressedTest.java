package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Precompressed variants against real files: the negotiation table (identity, gzip, br, zstd,
 * q-values, q=0, *, a missing variant, a stale variant), Content-Encoding and Vary, the variant's
 * own ETag, Range and 304 on the variant, HEAD, the directory index, and the feature off.
 */
@Timeout(60)
class PrecompressedTest {
    @TempDir
    Path root;
    private FileServer server;
    private final byte[] css = "body { color: black } /* original */\n".getBytes(StandardCharsets.US_ASCII);
    private final byte[] cssBr = "BROTLI-BYTES-of-a.css".getBytes(StandardCharsets.US_ASCII);
    private final byte[] cssGz = "GZIP-BYTES-of-a.css-0123456789".getBytes(StandardCharsets.US_ASCII);

    @BeforeEach
    void setUp() throws Exception {
        Instant t = Instant.parse("2025-01-01T00:00:00Z");
        write("a.css", css, t);
        write("a.css.br", cssBr, t.plusSeconds(1));
        write("a.css.gz", cssGz, t); // same time: not older, so fresh
        write("b.js", "let b = 1;\n".getBytes(StandardCharsets.US_ASCII), t.plusSeconds(60));
        write("b.js.gz", "STALE".getBytes(StandardCharsets.US_ASCII), t); // older than b.js: never served
        write("c.txt", "no variants\n".getBytes(StandardCharsets.US_ASCII), t);
        write("index.html", "<p>home</p>\n".getBytes(StandardCharsets.US_ASCII), t);
        write("index.html.gz", "GZ-HOME".getBytes(StandardCharsets.US_ASCII), t);
        server = FileServer.builder().root(root).precompressed(true).start();
    }

    private void write(String name, byte[] bytes, Instant mtime) throws Exception {
        Files.write(root.resolve(name), bytes);
        Files.setLastModifiedTime(root.resolve(name), FileTime.from(mtime));
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private RawHttp.Response ask(String target, String... fields) throws Exception {
        return ask(server.port(), "GET", target, fields);
    }

    private static RawHttp.Response ask(int port, String method, String target, String... fields) throws Exception {
        StringBuilder sb = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: x\r\n");
        for (String f : fields) {
            sb.append(f).append("\r\n");
        }
        try (RawHttp h = new RawHttp(port)) {
            h.send(sb.append("\r\n").toString());
            return h.read(method.equals("HEAD"));
        }
    }

    @ParameterizedTest(name = "Accept-Encoding: {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "|identity",
        "gzip|gzip",
        "br|br",
        "br, gzip|br",
        "gzip, br|br",
        "gzip;q=1, br;q=0.5|gzip",
        "gzip;q=0.9, br;q=0.91|br",
        "br;q=0, gzip|gzip",
        "br;q=0, gzip;q=0|identity",
        "BR;Q=0.000, GZip|gzip",
        "*|br",
        "*;q=0|identity",
        "*;q=0, gzip|gzip",
        "br;q=0, *|gzip",
        "zstd|identity",
        "zstd, gzip;q=0.5|gzip",
        "x-gzip|gzip",
        "gzip;q=1.0|gzip",
        "gzip;q=2|identity",
        "gzip;q=0.5.5|identity",
        "deflate, compress|identity",
        "identity|identity",
    })
    void negotiation(String acceptEncoding, String expected) throws Exception {
        RawHttp.Response r = acceptEncoding == null ? ask("/a.css") : ask("/a.css", "Accept-Encoding: " + acceptEncoding);
        assertEquals(200, r.status());
        assertEquals("Accept-Encoding", r.header("vary"));
        assertEquals("text/css; charset=utf-8", r.header("content-type"), "the original's type, not the variant's");
        switch (expected) {
            case "identity" -> {
                assertNull(r.header("content-encoding"));
                assertArrayEquals(css, r.body());
            }
            case "gzip" -> {
                assertEquals("gzip", r.header("content-encoding"));
                assertArrayEquals(cssGz, r.body());
            }
            case "br" -> {
                assertEquals("br", r.header("content-encoding"));
                assertArrayEquals(cssBr, r.body());
            }
            default -> throw new AssertionError(expected);
        }
    }

    @Test
    void zstdIsServedWhenItsVariantExists() throws Exception {
        write("a.css.zst", "ZSTD".getBytes(StandardCharsets.US_ASCII), Instant.parse("2025-01-02T00:00:00Z"));
        RawHttp.Response r = ask("/a.css", "Accept-Encoding: zstd, gzip");
        assertEquals("zstd", r.header("content-encoding"));
        assertEquals("ZSTD", r.text());
    }

    @Test
    void aStaleVariantIsNeverServed() throws Exception {
        RawHttp.Response r = ask("/b.js", "Accept-Encoding: gzip");
        assertNull(r.header("content-encoding"));
        assertEquals("let b = 1;\n", r.text());
    }

    @Test
    void aFileWithoutVariantsIsServedAsIs() throws Exception {
        RawHttp.Response r = ask("/c.txt", "Accept-Encoding: br, zstd, gzip");
        assertNull(r.header("content-encoding"));
        assertEquals("no variants\n", r.text());
    }

    @Test
    void eachVariantHasItsOwnEtagAnd304AppliesToIt() throws Exception {
        String plain = ask("/a.css").header("etag");
        String gz = ask("/a.css", "Accept-Encoding: gzip").header("etag");
        String br = ask("/a.css", "Accept-Encoding: br").header("etag");
        assertNotEquals(plain, gz);
        assertNotEquals(gz, br);
        RawHttp.Response notModified = ask("/a.css", "Accept-Encoding: gzip", "If-None-Match: " + gz);
        assertEquals(304, notModified.status());
        assertEquals("Accept-Encoding", notModified.header("vary"));
        assertEquals("gzip", notModified.header("content-encoding"));
        assertEquals(200, ask("/a.css", "Accept-Encoding: gzip", "If-None-Match: " + plain).status(),
                "the identity ETag does not validate the gzip variant");
        assertEquals(304, ask("/a.css", "If-None-Match: " + plain).status());
    }

    @Test
    void rangesApplyToTheVariantsBytes() throws Exception {
        RawHttp.Response r = ask("/a.css", "Accept-Encoding: gzip", "Range: bytes=5-9");
        assertEquals(206, r.status());
        assertEquals("gzip", r.header("content-encoding"));
        assertEquals("bytes 5-9/" + cssGz.length, r.header("content-range"));
        assertArrayEquals(Arrays.copyOfRange(cssGz, 5, 10), r.body());
        RawHttp.Response several = ask("/a.css", "Accept-Encoding: gzip", "Range: bytes=0-1,4-5");
        assertEquals(200, several.status(), "several ranges of a variant: the whole variant");
        assertArrayEquals(cssGz, several.body());
    }

    @Test
    void headNamesTheVariantsLength() throws Exception {
        RawHttp.Response r = ask(server.port(), "HEAD", "/a.css", "Accept-Encoding: br");
        assertEquals(String.valueOf(cssBr.length), r.header("content-length"));
        assertEquals("br", r.header("content-encoding"));
    }

    @Test
    void theDirectoryIndexHasVariantsTooOnAMissAndOnAHit() throws Exception {
        for (int i = 0; i < 2; i++) {
            RawHttp.Response r = ask("/", "Accept-Encoding: gzip");
            assertEquals("gzip", r.header("content-encoding"), "round " + i);
            assertEquals("GZ-HOME", r.text());
        }
        assertEquals("<p>home</p>\n", ask("/").text());
    }

    @Test
    void offByDefault() throws Exception {
        try (FileServer plain = FileServer.builder().root(root).start()) {
            RawHttp.Response r = ask(plain.port(), "GET", "/a.css", "Accept-Encoding: br, gzip");
            assertNull(r.header("content-encoding"));
            assertNull(r.header("vary"));
            assertArrayEquals(css, r.body());
        }
    }
}
