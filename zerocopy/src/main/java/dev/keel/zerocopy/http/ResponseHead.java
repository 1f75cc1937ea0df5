package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Writes a response head (status line and fields) as ASCII into one reused native buffer, so
 * an answer is built without a String or a byte array. Date comes from a per-second cache.
 * Fields that would not fit are a programming error: the buffer is sized for the longest head
 * this server writes (a Location is bounded by the request line limit).
 */
final class ResponseHead {
    private static final byte[] SERVER = Ascii.bytes("Server: keel\r\nDate: ");
    private static final byte[] CRLF = Ascii.bytes("\r\n");
    private static final byte[] CONTENT_TYPE = Ascii.bytes("Content-Type: ");
    private static final byte[] CONTENT_LENGTH = Ascii.bytes("Content-Length: ");
    private static final byte[] LAST_MODIFIED = Ascii.bytes("Last-Modified: ");
    private static final byte[] ETAG = Ascii.bytes("ETag: ");
    private static final byte[] ACCEPT_RANGES = Ascii.bytes("Accept-Ranges: bytes\r\n");
    private static final byte[] CONTENT_RANGE = Ascii.bytes("Content-Range: bytes ");
    private static final byte[] CONTENT_ENCODING = Ascii.bytes("Content-Encoding: ");
    private static final byte[] VARY_ACCEPT_ENCODING = Ascii.bytes("Vary: Accept-Encoding\r\n");
    private static final byte[] CONNECTION_CLOSE = Ascii.bytes("Connection: close\r\n");
    private static final byte[] CONNECTION_KEEP_ALIVE = Ascii.bytes("Connection: keep-alive\r\n");
    private static final byte[] LOCATION = Ascii.bytes("Location: ");
    private static final byte[] ALLOW = Ascii.bytes("Allow: GET, HEAD\r\n");
    private static final byte[] HTML = Ascii.bytes("text/html; charset=utf-8");
    private static final byte[] MULTIPART = Ascii.bytes("multipart/byteranges; boundary=");

    private final MemorySegment buffer;
    private final MemorySegment[] slices;
    private long pos;
    private long dateSecond = Long.MIN_VALUE;
    private final byte[] date = new byte[HttpDates.LENGTH];
    private final MemorySegment dateView = MemorySegment.ofArray(date);

    ResponseHead(MemorySegment buffer) {
        this.buffer = buffer;
        this.slices = new MemorySegment[(int) buffer.byteSize() + 1];
    }

    MemorySegment buffer() {
        return buffer;
    }

    /** Bytes written so far. */
    int length() {
        return (int) pos;
    }

    /** A view of the first {@code n} bytes, made once per length and reused. */
    MemorySegment slice(int n) {
        MemorySegment s = slices[n];
        if (s == null) {
            s = buffer.asSlice(0, n);
            slices[n] = s;
        }
        return s;
    }

    /** Empties the buffer, for bytes that are not a head (multipart delimiters). */
    ResponseHead clear() {
        pos = 0;
        return this;
    }

    /** Starts a head: status line, Server and Date. */
    ResponseHead start(int status, long nowMillis) {
        long second = nowMillis / 1000;
        if (second != dateSecond) {
            HttpDates.format(second, dateView, 0);
            dateSecond = second;
        }
        pos = 0;
        put(Status.line(status));
        put(SERVER);
        put(date);
        return put(CRLF);
    }

    ResponseHead contentType(byte[] type) {
        return put(CONTENT_TYPE).put(type).put(CRLF);
    }

    ResponseHead htmlType() {
        return contentType(HTML);
    }

    ResponseHead multipartType(byte[] boundary) {
        return put(CONTENT_TYPE).put(MULTIPART).put(boundary).put(CRLF);
    }

    ResponseHead contentLength(long n) {
        put(CONTENT_LENGTH);
        pos = Ascii.putDecimal(buffer, pos, n);
        return put(CRLF);
    }

    ResponseHead validators(CachedFile f) {
        return put(LAST_MODIFIED).put(f.lastModified).put(CRLF).put(ETAG).put(f.etag).put(CRLF);
    }

    /** {@code Content-Encoding: coding} for a precompressed variant. */
    ResponseHead contentEncoding(byte[] coding) {
        return put(CONTENT_ENCODING).put(coding).put(CRLF);
    }

    /** {@code Vary: Accept-Encoding}: the answer depends on it when precompressed variants are served. */
    ResponseHead varyAcceptEncoding() {
        return put(VARY_ACCEPT_ENCODING);
    }

    ResponseHead acceptRanges() {
        return put(ACCEPT_RANGES);
    }

    /** {@code Content-Range: bytes first-last/size}. */
    ResponseHead contentRange(long first, long last, long size) {
        put(CONTENT_RANGE);
        pos = Ascii.putDecimal(buffer, pos, first);
        buffer.set(JAVA_BYTE, pos++, (byte) '-');
        pos = Ascii.putDecimal(buffer, pos, last);
        buffer.set(JAVA_BYTE, pos++, (byte) '/');
        pos = Ascii.putDecimal(buffer, pos, size);
        return put(CRLF);
    }

    /** {@code Content-Range: bytes *}{@code /size}, with a 416. */
    ResponseHead unsatisfiedRange(long size) {
        put(CONTENT_RANGE);
        buffer.set(JAVA_BYTE, pos++, (byte) '*');
        buffer.set(JAVA_BYTE, pos++, (byte) '/');
        pos = Ascii.putDecimal(buffer, pos, size);
        return put(CRLF);
    }

    /** {@code Location:} the raw path of the request, a slash, then its query. */
    ResponseHead locationWithSlash(MemorySegment request, long pathStart, long pathEnd, long targetEnd) {
        put(LOCATION);
        MemorySegment.copy(request, pathStart, buffer, pos, pathEnd - pathStart);
        pos += pathEnd - pathStart;
        buffer.set(JAVA_BYTE, pos++, (byte) '/');
        MemorySegment.copy(request, pathEnd, buffer, pos, targetEnd - pathEnd);
        pos += targetEnd - pathEnd;
        return put(CRLF);
    }

    ResponseHead allow() {
        return put(ALLOW);
    }

    /**
     * Ends the head. HTTP/1.1 keeps connections open by default, so only a closing answer
     * says so; an HTTP/1.0 client is told when its connection stays open.
     */
    ResponseHead end(boolean keepAlive, int minorVersion) {
        if (!keepAlive) {
            put(CONNECTION_CLOSE);
        } else if (minorVersion == 0) {
            put(CONNECTION_KEEP_ALIVE);
        }
        return put(CRLF);
    }

    ResponseHead put(byte[] bytes) {
        pos = Ascii.put(buffer, pos, bytes);
        return this;
    }

    /** Copies {@code [from, to)} of {@code s}. */
    ResponseHead put(MemorySegment s, long from, long to) {
        MemorySegment.copy(s, from, buffer, pos, to - from);
        pos += to - from;
        return this;
    }

    ResponseHead decimal(long n) {
        pos = Ascii.putDecimal(buffer, pos, n);
        return this;
    }

    /** The Date of the last head, for the access log. */
    byte[] date() {
        return date;
    }
}
