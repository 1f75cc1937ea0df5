package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives {@link HttpRequestParser} the way {@code StaticFileHandler} does: bytes arrive in
 * reads of any size into a connection buffer, empty lines between requests are skipped, the
 * head end is searched only in new bytes, an incomplete head is refused as soon as it is too
 * large, request bodies announced by Content-Length are skipped, and the framing answers of
 * {@code Answers} (501 for an unknown method or Transfer-Encoding, 413 for a body too long,
 * close without keep-alive) end the connection. What happened is kept as text, so that two
 * ways of cutting the same bytes can be compared.
 *
 * <p>With {@link #runChecked}, every complete head is also checked against
 * {@link HttpHeadReference} and the returned offsets are checked to lie inside the head.
 */
final class ParserDriver {
    private final HttpRequestParser parser;
    private final int maxLine;
    private final int maxHead;
    private final int maxFields;
    private final long maxBodySkip;
    private final MemorySegment buffer;
    private final HttpRequest request = new HttpRequest();
    private final List<String> outcomes = new ArrayList<>();
    private final List<Long> heads = new ArrayList<>();
    private long length;
    private long scanned;
    private long bodyToSkip;
    private boolean closed;
    private int refusedWith;
    private boolean checkReference;

    /** @param buffer the connection buffer, large enough for all bytes that will be fed */
    ParserDriver(int maxLine, int maxHead, int maxFields, long maxBodySkip, MemorySegment buffer) {
        this.parser = new HttpRequestParser(maxLine, maxHead, maxFields);
        this.maxLine = maxLine;
        this.maxHead = maxHead;
        this.maxFields = maxFields;
        this.maxBodySkip = maxBodySkip;
        this.buffer = buffer;
    }

    /** Forgets the previous connection. */
    ParserDriver reset() {
        outcomes.clear();
        heads.clear();
        length = 0;
        scanned = 0;
        bodyToSkip = 0;
        closed = false;
        refusedWith = 0;
        return this;
    }

    /**
     * Feeds {@code in} cut into reads that end at each of {@code cuts} (ascending, the last one
     * the end), checking each head against the reference.
     */
    String runChecked(MemorySegment in, long... cuts) {
        checkReference = true;
        try {
            return run(in, cuts);
        } finally {
            checkReference = false;
        }
    }

    /** Feeds {@code in} cut into reads that end at each of {@code cuts} (ascending, the last one the end). */
    String run(MemorySegment in, long... cuts) {
        reset();
        long from = 0;
        for (long cut : cuts) {
            read(in, from, cut);
            from = cut;
        }
        return result();
    }

    /** Every outcome, then the connection's final state. */
    String result() {
        String state = closed ? "closed" : "open, skipping " + bodyToSkip + ", holding " + length;
        return String.join("\n", outcomes) + "\n" + state;
    }

    /** The status the connection was refused with, or 0. */
    int refusedWith() {
        return refusedWith;
    }

    /** The lengths of the heads accepted, in order. */
    List<Long> heads() {
        return heads;
    }

    /** One read of {@code [from, to)} of {@code in}. */
    void read(MemorySegment in, long from, long to) {
        if (closed || from == to) {
            return;
        }
        MemorySegment.copy(in, from, buffer, length, to - from);
        length += to - from;
        long pos = 0;
        long end = length;
        while (pos < end && !closed) {
            if (bodyToSkip > 0) {
                long n = Math.min(bodyToSkip, end - pos);
                pos += n;
                bodyToSkip -= n;
                continue;
            }
            pos = HttpRequestParser.skipEmptyLines(buffer, pos, end);
            if (pos == end) {
                break;
            }
            long headEnd = HttpRequestParser.findHeadEnd(buffer, pos, pos + scanned, end);
            if (headEnd < 0) {
                int status = parser.incompleteStatus(buffer, pos, end);
                assertTrue(status == 0 || status == 414 || status == 431, "incomplete status " + status);
                if (status != 0) {
                    refuse(status);
                } else {
                    scanned = end - pos;
                }
                break;
            }
            scanned = 0;
            long parsed = parser.parse(buffer, pos, headEnd, request);
            if (checkReference) {
                check(pos, headEnd, parsed);
            }
            if (parsed < 0) {
                refuse((int) -parsed);
                break;
            }
            heads.add(headEnd - pos);
            pos = headEnd;
            answer();
        }
        MemorySegment.copy(buffer, pos, buffer, 0, end - pos);
        length = end - pos;
    }

    private void check(long pos, long headEnd, long parsed) {
        String text = FuzzBytes.text(buffer, pos, length);
        assertEquals(HttpHeadReference.headEnd(text, 0), headEnd - pos, "end of the head");
        String head = text.substring(0, (int) (headEnd - pos));
        String expected = HttpHeadReference.parse(head, maxLine, maxHead, maxFields);
        if (parsed < 0) {
            assertEquals(expected, "E" + -parsed, "refusal of " + head);
            return;
        }
        assertEquals(headEnd, parsed);
        assertEquals(expected, HttpHeadReference.summary(request), "fields of " + head);
        HttpRequest r = request;
        assertTrue(r.methodStart == pos && r.methodEnd < r.targetStart && r.targetStart < r.targetEnd
                && r.targetEnd < headEnd, "request line offsets");
        long[][] values = {{r.rangeStart, r.rangeEnd}, {r.ifRangeStart, r.ifRangeEnd},
            {r.ifNoneMatchStart, r.ifNoneMatchEnd}, {r.ifModifiedSinceStart, r.ifModifiedSinceEnd}};
        for (long[] v : values) {
            assertTrue(v[0] == HttpRequest.NONE && v[1] == HttpRequest.NONE
                    || pos < v[0] && v[0] <= v[1] && v[1] < headEnd, "a field value inside the head");
        }
    }

    /** The framing decisions of {@code Answers.answer}, before any file is looked at. */
    private void answer() {
        outcomes.add(HttpHeadReference.summary(request));
        if (request.method == HttpRequest.UNKNOWN || request.transferEncoding) {
            refuse(501);
        } else if (request.contentLength > maxBodySkip) {
            refuse(413);
        } else {
            if (request.contentLength > 0) {
                bodyToSkip = request.contentLength;
            }
            if (!request.keepAlive()) {
                closed = true;
            }
        }
    }

    private void refuse(int status) {
        outcomes.add("refused");
        refusedWith = status;
        closed = true;
    }
}
