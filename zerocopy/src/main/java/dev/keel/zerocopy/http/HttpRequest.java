package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

/**
 * One parsed HTTP/1.1 request head, as offsets into the segment it was parsed from: a
 * flyweight reused for every request of a loop, so parsing allocates nothing. The offsets are
 * valid only while that segment holds the request's bytes (during the {@code onData} call, or
 * until the connection's input buffer is compacted).
 *
 * <p>Only the fields a static file server acts on are kept: the method, the target, the
 * version, and the headers that change framing or the answer (Host, Connection,
 * Content-Length, Transfer-Encoding, Range, If-Range, If-None-Match, If-Modified-Since).
 */
final class HttpRequest {
    static final int GET = 1;
    static final int HEAD = 2;
    /** A method this server knows but does not allow (POST, PUT, ...): 405. */
    static final int OTHER = 3;
    /** A method nobody here knows: 501. */
    static final int UNKNOWN = 4;

    /** Absent header: start and end are both this. */
    static final long NONE = -1;

    MemorySegment source;
    int method;
    long methodStart;
    long methodEnd;
    long targetStart;
    long targetEnd;
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    int minorVersion;
    /** Offset just past the empty line that ends the head. */
    long headEnd;
    int hostCount;
    boolean connectionClose;
    boolean connectionKeepAlive;
    /** -1 when absent. */
    long contentLength;
    boolean transferEncoding;
    long rangeStart;
    long rangeEnd;
    long ifRangeStart;
    long ifRangeEnd;
    long ifNoneMatchStart;
    long ifNoneMatchEnd;
    long ifModifiedSinceStart;
    long ifModifiedSinceEnd;
    /** The first Accept-Encoding field's value (later ones are ignored), or NONE. */
    long acceptEncodingStart;
    long acceptEncodingEnd;

    void reset(MemorySegment segment) {
        source = segment;
        method = 0;
        methodStart = methodEnd = 0;
        targetStart = targetEnd = 0;
        minorVersion = 1;
        headEnd = 0;
        hostCount = 0;
        connectionClose = false;
        connectionKeepAlive = false;
        contentLength = -1;
        transferEncoding = false;
        rangeStart = rangeEnd = NONE;
        ifRangeStart = ifRangeEnd = NONE;
        ifNoneMatchStart = ifNoneMatchEnd = NONE;
        ifModifiedSinceStart = ifModifiedSinceEnd = NONE;
        acceptEncodingStart = acceptEncodingEnd = NONE;
    }

    boolean isHead() {
        return method == HEAD;
    }

    /** Whether the connection stays open after this request's answer (RFC 9112 section 9.3). */
    boolean keepAlive() {
        if (connectionClose) {
            return false;
        }
        return minorVersion >= 1 || connectionKeepAlive;
    }

    boolean hasRange() {
        return rangeStart != NONE;
    }
}
