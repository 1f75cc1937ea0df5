package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static dev.keel.zerocopy.http.Ascii.CR;
import static dev.keel.zerocopy.http.Ascii.HT;
import static dev.keel.zerocopy.http.Ascii.LF;
import static dev.keel.zerocopy.http.Ascii.SP;
import static dev.keel.zerocopy.http.Ascii.at;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Parses HTTP/1.1 request heads (RFC 9112) straight from off-heap bytes into an
 * {@link HttpRequest} flyweight, allocating nothing.
 *
 * <p>Work is split in two so that a head arriving in many small pieces costs linear time:
 * {@link #findHeadEnd} looks only at bytes not scanned before for the empty line that ends
 * the head, and {@link #parse} runs once over a complete head. Anything that could let two
 * parties disagree on where a request ends is refused rather than guessed: obsolete line
 * folding, whitespace before a colon, a bare CR, control characters, Content-Length with
 * Transfer-Encoding, conflicting Content-Lengths, missing or repeated Host.
 *
 * <p>Results: {@link #parse} returns the offset just past the head, or {@code -status} for a
 * request to refuse: 400 (malformed), 414 (request line too long), 431 (head too large or too
 * many fields), 505 (HTTP version other than 1.x).
 */
final class HttpRequestParser {
    static final int BAD_REQUEST = 400;
    static final int URI_TOO_LONG = 414;
    static final int HEADERS_TOO_LARGE = 431;
    static final int VERSION_NOT_SUPPORTED = 505;

    private static final byte[] GET = Ascii.bytes("GET");
    private static final byte[] HEAD = Ascii.bytes("HEAD");
    private static final byte[][] OTHER_METHODS = {
        Ascii.bytes("POST"), Ascii.bytes("PUT"), Ascii.bytes("DELETE"), Ascii.bytes("OPTIONS"),
        Ascii.bytes("TRACE"), Ascii.bytes("PATCH"), Ascii.bytes("CONNECT"),
    };
    private static final byte[] HTTP_SLASH = Ascii.bytes("HTTP/");
    private static final byte[] H_HOST = Ascii.bytes("host");
    private static final byte[] H_RANGE = Ascii.bytes("range");
    private static final byte[] H_IF_RANGE = Ascii.bytes("if-range");
    private static final byte[] H_CONNECTION = Ascii.bytes("connection");
    private static final byte[] H_IF_NONE_MATCH = Ascii.bytes("if-none-match");
    private static final byte[] H_CONTENT_LENGTH = Ascii.bytes("content-length");
    private static final byte[] H_IF_MODIFIED_SINCE = Ascii.bytes("if-modified-since");
    private static final byte[] H_ACCEPT_ENCODING = Ascii.bytes("accept-encoding");
    private static final byte[] H_TRANSFER_ENCODING = Ascii.bytes("transfer-encoding");
    private static final byte[] CLOSE = Ascii.bytes("close");
    private static final byte[] KEEP_ALIVE = Ascii.bytes("keep-alive");

    private final int maxRequestLine;
    private final int maxHeadBytes;
    private final int maxHeaders;

    /**
     * @param maxRequestLine longest request line accepted (longer: 414)
     * @param maxHeadBytes   longest head, request line included (longer: 431)
     * @param maxHeaders     most header fields (more: 431)
     */
    HttpRequestParser(int maxRequestLine, int maxHeadBytes, int maxHeaders) {
        if (maxRequestLine <= 0 || maxHeadBytes < maxRequestLine || maxHeaders <= 0) {
            throw new IllegalArgumentException("bad limits: line " + maxRequestLine + ", head " + maxHeadBytes
                    + ", fields " + maxHeaders);
        }
        this.maxRequestLine = maxRequestLine;
        this.maxHeadBytes = maxHeadBytes;
        this.maxHeaders = maxHeaders;
    }

    int maxHeadBytes() {
        return maxHeadBytes;
    }

    /** {@code from} advanced past the empty lines a client may send between requests (RFC 9112 2.2). */
    static long skipEmptyLines(MemorySegment s, long from, long to) {
        while (from < to) {
            byte b = s.get(JAVA_BYTE, from);
            if (b != CR && b != LF) {
                break;
            }
            from++;
        }
        return from;
    }

    /**
     * The offset just past the empty line ending the head that starts at {@code from}, or -1 when
     * the head is not complete in {@code [from, to)}. Only bytes from {@code scanFrom} on are
     * examined (pass {@code from} the first time and the previous {@code to} after that): the
     * search backs up three bytes itself to catch a terminator split across calls.
     */
    static long findHeadEnd(MemorySegment s, long from, long scanFrom, long to) {
        long i = Math.max(from, scanFrom - 3);
        for (; i < to; i++) {
            if (s.get(JAVA_BYTE, i) != LF) {
                continue;
            }
            if (i + 1 < to) {
                byte next = s.get(JAVA_BYTE, i + 1);
                if (next == LF) {
                    return i + 2;
                }
                if (next == CR && i + 2 < to && s.get(JAVA_BYTE, i + 2) == LF) {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    /**
     * For a head still incomplete in {@code [from, to)}: 0 when waiting for more is reasonable,
     * or the status refusing it, 414 when the request line alone is already too long, 431 when
     * the head is.
     */
    int incompleteStatus(MemorySegment s, long from, long to) {
        // A request line of the limit may still end in CR LF: only limit + 2 bytes without an LF
        // prove it too long (a read can end between its CR and LF; found by the fuzz test).
        long lineLimit = from + maxRequestLine + 2;
        if (to >= lineLimit && Ascii.indexOf(s, from, lineLimit, LF) < 0) {
            return URI_TOO_LONG;
        }
        if (to - from > maxHeadBytes) {
            return HEADERS_TOO_LARGE;
        }
        return 0;
    }

    /**
     * Parses the complete head {@code [from, headEnd)} (see {@link #findHeadEnd}) into
     * {@code r}. Returns {@code headEnd}, or {@code -status} when the request must be refused.
     */
    long parse(MemorySegment s, long from, long headEnd, HttpRequest r) {
        r.reset(s);
        long lineEnd = Ascii.indexOf(s, from, headEnd, LF);
        long contentEnd = lineEnd > from && s.get(JAVA_BYTE, lineEnd - 1) == CR ? lineEnd - 1 : lineEnd;
        if (contentEnd - from > maxRequestLine) {
            return -URI_TOO_LONG;
        }
        int status = requestLine(s, from, contentEnd, r);
        if (status != 0) {
            return -status;
        }
        if (headEnd - from > maxHeadBytes) {
            return -HEADERS_TOO_LARGE;
        }
        int fields = 0;
        long pos = lineEnd + 1;
        while (true) {
            long end = Ascii.indexOf(s, pos, headEnd, LF);
            long valueEnd = end > pos && s.get(JAVA_BYTE, end - 1) == CR ? end - 1 : end;
            if (valueEnd == pos) {
                break; // the empty line
            }
            if (++fields > maxHeaders) {
                return -HEADERS_TOO_LARGE;
            }
            status = field(s, pos, valueEnd, r);
            if (status != 0) {
                return -status;
            }
            pos = end + 1;
        }
        if (r.minorVersion >= 1 && r.hostCount != 1 || r.hostCount > 1) {
            return -BAD_REQUEST; // RFC 9112 3.2: exactly one Host in HTTP/1.1
        }
        if (r.transferEncoding && r.contentLength >= 0) {
            return -BAD_REQUEST; // RFC 9112 6.1: a request smuggling shape
        }
        r.headEnd = headEnd;
        return headEnd;
    }

    private static int requestLine(MemorySegment s, long from, long end, HttpRequest r) {
        long p = from;
        while (p < end && Ascii.isTchar(at(s, p))) {
            p++;
        }
        if (p == from || p >= end || s.get(JAVA_BYTE, p) != SP) {
            return BAD_REQUEST;
        }
        r.methodStart = from;
        r.methodEnd = p;
        r.method = classify(s, from, p);
        long target = ++p;
        while (p < end) {
            int b = at(s, p);
            if (b == SP) {
                break;
            }
            if (b < 0x21 || b > 0x7E) {
                return BAD_REQUEST; // controls, DEL and raw non-ASCII are never valid in a target
            }
            p++;
        }
        if (p == target || p >= end) {
            return BAD_REQUEST;
        }
        r.targetStart = target;
        r.targetEnd = p;
        long version = p + 1;
        if (end - version != 8 || !Ascii.equals(s, version, version + 5, HTTP_SLASH)
                || s.get(JAVA_BYTE, version + 6) != '.') {
            return BAD_REQUEST;
        }
        int major = at(s, version + 5) - '0';
        int minor = at(s, version + 7) - '0';
        if (major < 0 || major > 9 || minor < 0 || minor > 9) {
            return BAD_REQUEST;
        }
        if (major != 1) {
            return VERSION_NOT_SUPPORTED;
        }
        r.minorVersion = minor == 0 ? 0 : 1; // 1.2 and up are answered as 1.1 (RFC 9110 2.5)
        return 0;
    }

    private static int classify(MemorySegment s, long from, long to) {
        if (Ascii.equals(s, from, to, GET)) {
            return HttpRequest.GET;
        }
        if (Ascii.equals(s, from, to, HEAD)) {
            return HttpRequest.HEAD;
        }
        for (byte[] m : OTHER_METHODS) {
            if (Ascii.equals(s, from, to, m)) {
                return HttpRequest.OTHER;
            }
        }
        return HttpRequest.UNKNOWN;
    }

    /** One header line {@code [from, end)} without its line ending. */
    private static int field(MemorySegment s, long from, long end, HttpRequest r) {
        long colon = from;
        while (colon < end && Ascii.isTchar(at(s, colon))) {
            colon++;
        }
        // Empty name, a space before the colon, or a line starting with whitespace (obs-fold).
        if (colon == from || colon >= end || s.get(JAVA_BYTE, colon) != ':') {
            return BAD_REQUEST;
        }
        for (long i = colon + 1; i < end; i++) {
            int b = at(s, i);
            if (b < 0x20 && b != HT || b == 0x7F) {
                return BAD_REQUEST; // includes a CR that is not part of the line ending
            }
        }
        long vs = Ascii.skipOws(s, colon + 1, end);
        long ve = Ascii.trimOws(s, vs, end);
        switch ((int) (colon - from)) {
            case 4 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_HOST)) {
                    r.hostCount++;
                }
            }
            case 5 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_RANGE)) {
                    if (r.rangeStart != HttpRequest.NONE) {
                        return BAD_REQUEST;
                    }
                    r.rangeStart = vs;
                    r.rangeEnd = ve;
                }
            }
            case 8 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_IF_RANGE)) {
                    if (r.ifRangeStart != HttpRequest.NONE) {
                        return BAD_REQUEST;
                    }
                    r.ifRangeStart = vs;
                    r.ifRangeEnd = ve;
                }
            }
            case 10 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_CONNECTION)) {
                    connectionTokens(s, vs, ve, r);
                }
            }
            case 13 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_IF_NONE_MATCH)) {
                    if (r.ifNoneMatchStart != HttpRequest.NONE) {
                        return BAD_REQUEST;
                    }
                    r.ifNoneMatchStart = vs;
                    r.ifNoneMatchEnd = ve;
                }
            }
            case 14 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_CONTENT_LENGTH)) {
                    long n = Ascii.parseDecimal(s, vs, ve);
                    if (n < 0 || r.contentLength >= 0 && r.contentLength != n) {
                        return BAD_REQUEST;
                    }
                    r.contentLength = n;
                }
            }
            case 15 -> {
                if (r.acceptEncodingStart == HttpRequest.NONE
                        && Ascii.equalsIgnoreCase(s, from, colon, H_ACCEPT_ENCODING)) {
                    r.acceptEncodingStart = vs;
                    r.acceptEncodingEnd = ve;
                }
            }
            case 17 -> {
                if (Ascii.equalsIgnoreCase(s, from, colon, H_IF_MODIFIED_SINCE)) {
                    if (r.ifModifiedSinceStart != HttpRequest.NONE) {
                        return BAD_REQUEST;
                    }
                    r.ifModifiedSinceStart = vs;
                    r.ifModifiedSinceEnd = ve;
                } else if (Ascii.equalsIgnoreCase(s, from, colon, H_TRANSFER_ENCODING)) {
                    r.transferEncoding = true;
                }
            }
            default -> {
                // a field this server does not act on
            }
        }
        return 0;
    }

    private static void connectionTokens(MemorySegment s, long from, long to, HttpRequest r) {
        long p = from;
        while (p < to) {
            long comma = Ascii.indexOf(s, p, to, (byte) ',');
            long tokenEnd = comma < 0 ? to : comma;
            long ts = Ascii.skipOws(s, p, tokenEnd);
            long te = Ascii.trimOws(s, ts, tokenEnd);
            if (Ascii.equalsIgnoreCase(s, ts, te, CLOSE)) {
                r.connectionClose = true;
            } else if (Ascii.equalsIgnoreCase(s, ts, te, KEEP_ALIVE)) {
                r.connectionKeepAlive = true;
            }
            p = tokenEnd + 1;
        }
    }
}
