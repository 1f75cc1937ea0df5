package dev.keel.zerocopy.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpRequestParserTest {
    private final Arena arena = Arena.ofConfined();
    private final HttpRequestParser parser = new HttpRequestParser(8192, 16 * 1024, 100);
    private final HttpRequest r = new HttpRequest();

    @AfterEach
    void close() {
        arena.close();
    }

    private MemorySegment bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        MemorySegment m = arena.allocate(Math.max(1, b.length));
        MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
        return m.asSlice(0, b.length);
    }

    private long parse(String text) {
        MemorySegment m = bytes(text);
        long end = HttpRequestParser.findHeadEnd(m, 0, 0, m.byteSize());
        assertTrue(end > 0, "complete head");
        return parser.parse(m, 0, end, r);
    }

    private static String text(MemorySegment s, long from, long to) {
        byte[] b = new byte[(int) (to - from)];
        MemorySegment.copy(s, JAVA_BYTE, from, b, 0, b.length);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void shouldParseMethodTargetVersionAndTheFieldsItActsOn() {
        String req = "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: example\r\nRange: bytes=0-9 \r\nIf-Range: \"e1\"\r\n"
                + "If-None-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                + "connection: Keep-Alive, Upgrade\r\nX-Other: y\r\n\r\n";
        assertEquals(req.length(), parse(req));
        assertEquals(HttpRequest.GET, r.method);
        assertEquals("/a/b.txt?x=1", text(r.source, r.targetStart, r.targetEnd));
        assertEquals(1, r.minorVersion);
        assertEquals("bytes=0-9", text(r.source, r.rangeStart, r.rangeEnd));
        assertEquals("\"e1\"", text(r.source, r.ifRangeStart, r.ifRangeEnd));
        assertEquals("\"e2\"", text(r.source, r.ifNoneMatchStart, r.ifNoneMatchEnd));
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", text(r.source, r.ifModifiedSinceStart, r.ifModifiedSinceEnd));
        assertTrue(r.connectionKeepAlive);
        assertTrue(r.keepAlive());
        assertEquals(-1, r.contentLength);
    }

    @Test
    void shouldKnowKeepAliveDefaultsOfBothVersions() {
        parse("HEAD / HTTP/1.0\r\n\r\n");
        assertEquals(HttpRequest.HEAD, r.method);
        assertFalse(r.keepAlive());
        parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        assertFalse(r.keepAlive());
        parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n");
        assertEquals(1, r.minorVersion);
    }

    @Test
    void shouldClassifyMethods() {
        parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n");
        assertEquals(HttpRequest.OTHER, r.method);
        assertEquals(12, r.contentLength);
        parse("PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(HttpRequest.UNKNOWN, r.method);
    }

    @Test
    void shouldRefuseSmugglingShapes() {
        assertEquals(-400, parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assertEquals(-400, parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
        assertEquals(-400, parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n"));
        assertEquals(-400, parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"));
        assertEquals(-400, parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n"));
        assertEquals(-400, parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n"));
        assertTrue(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n") > 0);
    }

    @Test
    void shouldFindTheEndOfAHeadArrivingOneByteAtATime() {
        String req = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
        MemorySegment m = bytes(req);
        long scanned = 0;
        long end = -1;
        for (int have = 1; have <= req.length() && end < 0; have++) {
            end = HttpRequestParser.findHeadEnd(m, 0, scanned, have);
            scanned = have;
        }
        assertEquals(req.length(), end);
        assertEquals(-1, HttpRequestParser.findHeadEnd(m, 0, 0, req.length() - 1));
        MemorySegment lf = bytes("GET /x HTTP/1.1\nHost: h\n\nGET /y");
        assertEquals(25, HttpRequestParser.findHeadEnd(lf, 0, 0, lf.byteSize()));
    }

    @Test
    void shouldTellWhenAnIncompleteHeadIsAlreadyTooLarge() {
        MemorySegment line = bytes("GET /" + "a".repeat(9000));
        assertEquals(414, parser.incompleteStatus(line, 0, line.byteSize()));
        MemorySegment head = bytes("GET / HTTP/1.1\r\n" + "X: y\r\n".repeat(3000));
        assertEquals(431, parser.incompleteStatus(head, 0, head.byteSize()));
        MemorySegment small = bytes("GET / HTTP/1.1\r\nHost");
        assertEquals(0, parser.incompleteStatus(small, 0, small.byteSize()));
    }

    /** Regression (fuzzing found it): a read ending between the CR and LF of a line of the limit. */
    @Test
    void shouldWaitForTheLineFeedOfARequestLineOfExactlyTheLimit() {
        HttpRequestParser small = new HttpRequestParser(16, 64, 4);
        MemorySegment atLimit = bytes("GET /ab HTTP/1.1\r\nHost: h\r\n\r\n");
        assertEquals(0, small.incompleteStatus(atLimit, 0, 17), "16 bytes and the CR so far");
        assertEquals(atLimit.byteSize(), small.parse(atLimit, 0, atLimit.byteSize(), r));
        MemorySegment over = bytes("GET /abc HTTP/1.1\r");
        assertEquals(0, small.incompleteStatus(over, 0, 17));
        assertEquals(414, small.incompleteStatus(over, 0, 18), "17 bytes before the CR: too long whatever follows");
    }

    @Test
    void shouldParsePipelinedHeadsOneAfterTheOther() {
        String a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
        String b = "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n";
        MemorySegment m = bytes(a + b);
        long end = HttpRequestParser.findHeadEnd(m, 0, 0, m.byteSize());
        assertEquals(a.length(), parser.parse(m, 0, end, r));
        long end2 = HttpRequestParser.findHeadEnd(m, end, end, m.byteSize());
        assertEquals(m.byteSize(), parser.parse(m, end, end2, r));
        assertEquals(HttpRequest.HEAD, r.method);
        assertEquals("/b", text(m, r.targetStart, r.targetEnd));
    }

    /**
     * The parser's promise: once compiled, a request head costs no heap allocation at all,
     * measured with the thread's allocated-bytes counter.
     */
    @Test
    void shouldParseWithoutAllocatingOnTheHeap() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        MemorySegment m = bytes("GET /static/app.js?v=3 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n"
                + "Accept: */*\r\nRange: bytes=100-\r\nIf-None-Match: \"abc\"\r\nConnection: keep-alive\r\n\r\n");
        RequestPath path = new RequestPath(arena.allocate(4096 + 64), 4096);
        ByteRanges ranges = new ByteRanges(16);
        long sink = 0;
        for (int i = 0; i < 200_000; i++) { // warm up: the JIT, escape analysis
            sink += parseOnce(m, path, ranges);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            sink += parseOnce(m, path, ranges);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(sink > 0);
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes over 100,000 parses");
    }

    private long parseOnce(MemorySegment m, RequestPath path, ByteRanges ranges) {
        long end = HttpRequestParser.findHeadEnd(m, 0, 0, m.byteSize());
        long n = parser.parse(m, 0, end, r);
        path.decode(m, r.targetStart, r.targetEnd);
        ranges.parse(m, r.rangeStart, r.rangeEnd, 5000);
        return n + path.length() + ranges.count();
    }
}
