package dev.keel.zerocopy.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Range sets, HTTP dates, entity-tag lists and the Content-Type table, on bytes. */
class HeaderValuesTest {
    private final Arena arena = Arena.ofConfined();
    private final ByteRanges ranges = new ByteRanges(4);

    @AfterEach
    void close() {
        arena.close();
    }

    private MemorySegment bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        MemorySegment m = arena.allocate(b.length + 1L);
        MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
        return m.asSlice(0, b.length);
    }

    private int ranges(String value, long size) {
        MemorySegment m = bytes(value);
        return ranges.parse(m, 0, m.byteSize(), size);
    }

    @Test
    void shouldResolveRangesAgainstTheFileLength() {
        assertEquals(1, ranges("bytes=0-499", 1000));
        assertEquals(0, ranges.first(0));
        assertEquals(499, ranges.last(0));
        assertEquals(1, ranges("bytes=500-", 1000));
        assertEquals(999, ranges.last(0));
        assertEquals(1, ranges("bytes=-200", 1000));
        assertEquals(800, ranges.first(0));
        assertEquals(1, ranges("bytes=-5000", 1000));
        assertEquals(0, ranges.first(0));
        assertEquals(1, ranges("bytes=990-5000", 1000));
        assertEquals(999, ranges.last(0));
        assertEquals(2, ranges("BYTES=0-0 , ,-1", 1000));
        assertEquals(999, ranges.first(1));
        assertEquals(1, ranges("bytes=1000-,0-1", 1000), "unsatisfiable parts are dropped");
    }

    @Test
    void shouldSayWhenNothingIsSatisfiableOrTheHeaderIsToBeIgnored() {
        assertEquals(ByteRanges.UNSATISFIABLE, ranges("bytes=1000-", 1000));
        assertEquals(ByteRanges.UNSATISFIABLE, ranges("bytes=-0", 1000));
        assertEquals(ByteRanges.UNSATISFIABLE, ranges("bytes=0-", 0));
        assertEquals(ByteRanges.IGNORE, ranges("bytes=5-1", 1000));
        assertEquals(ByteRanges.IGNORE, ranges("items=0-1", 1000));
        assertEquals(ByteRanges.IGNORE, ranges("bytes=", 1000));
        assertEquals(ByteRanges.IGNORE, ranges("bytes=a-b", 1000));
        assertEquals(ByteRanges.IGNORE, ranges("bytes=0-1,2-3,4-5,6-7,8-9", 1000), "more than the limit");
        assertEquals(ByteRanges.IGNORE, ranges("bytes=0-999,0-999", 1000), "adds up past the file");
        assertEquals(ByteRanges.IGNORE, ranges("bytes=99999999999999999999-", 1000), "overflow");
    }

    @Test
    void shouldFormatAndParseHttpDatesLikeTheJdk() {
        Random random = new Random(3);
        MemorySegment out = arena.allocate(HttpDates.LENGTH);
        for (int i = 0; i < 10_000; i++) {
            long t = random.nextLong(0, 253_402_300_799L); // up to 9999-12-31
            HttpDates.format(t, out, 0);
            byte[] b = new byte[HttpDates.LENGTH];
            MemorySegment.copy(out, JAVA_BYTE, 0, b, 0, b.length);
            String mine = new String(b, StandardCharsets.US_ASCII);
            String jdk = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.ROOT)
                    .format(Instant.ofEpochSecond(t).atOffset(ZoneOffset.UTC));
            assertEquals(jdk, mine);
            assertEquals(t, HttpDates.parse(out, 0, HttpDates.LENGTH));
        }
    }

    @Test
    void shouldParseTheObsoleteDateFormsAndRefuseNonsense() {
        long t = 784_111_777L; // Sun, 06 Nov 1994 08:49:37 GMT
        assertEquals(t, parseDate("Sun, 06 Nov 1994 08:49:37 GMT"));
        assertEquals(t, parseDate("Sunday, 06-Nov-94 08:49:37 GMT"));
        assertEquals(t, parseDate("Sun Nov  6 08:49:37 1994"));
        for (String bad : new String[] {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT"}) {
            assertEquals(HttpDates.INVALID, parseDate(bad), bad);
        }
    }

    private long parseDate(String s) {
        MemorySegment m = bytes(s);
        return HttpDates.parse(m, 0, m.byteSize());
    }

    @Test
    void shouldMatchEntityTagListsWeakly() {
        byte[] etag = "\"abc\"".getBytes(StandardCharsets.US_ASCII);
        assertTrue(match("\"abc\"", etag));
        assertTrue(match("W/\"abc\"", etag));
        assertTrue(match("\"x\", W/\"y\" ,\"abc\"", etag));
        assertTrue(match("*", etag));
        assertFalse(match("\"abcd\"", etag));
        assertFalse(match("abc", etag));
        assertFalse(match("\"ab", etag));
    }

    private boolean match(String list, byte[] etag) {
        MemorySegment m = bytes(list);
        return Answers.anyTagMatches(m, 0, m.byteSize(), etag);
    }

    @Test
    void shouldTypeFilesByExtension() {
        assertEquals("text/html; charset=utf-8", ContentTypes.of("index.html"));
        assertEquals("text/html; charset=utf-8", ContentTypes.of("dir/INDEX.HTM"));
        assertEquals("image/png", ContentTypes.of("a/b/logo.png"));
        assertEquals("font/woff2", ContentTypes.of("f.woff2"));
        assertEquals("text/javascript; charset=utf-8", ContentTypes.of("app.min.js"));
        assertEquals("application/octet-stream", ContentTypes.of("Makefile"));
        assertEquals("application/octet-stream", ContentTypes.of("dir.d/file"));
        assertEquals("application/octet-stream", ContentTypes.of("archive.unknownext"));
        assertEquals("application/octet-stream", ContentTypes.of("trailing."));
    }
}
