package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Turns a request target into a path relative to the served root, in a reused native buffer
 * ready for openat2(2): percent-decoded, checked, dot segments resolved, NUL-terminated.
 *
 * <p>Refused with 400: a target that is neither origin-form ({@code /p?q}) nor absolute-form
 * ({@code http://host/p}); a bad percent escape; a decoded NUL, backslash or control byte; bytes
 * that are not well-formed UTF-8 (overlong forms such as {@code %c0%ae}, surrogates, values
 * past U+10FFFF); a {@code ..} that would climb above the root. Decoding happens once, so a
 * double-encoded {@code %252e} stays the three characters {@code %2e}, a file name. A decoded
 * path longer than the limit gets 414. Resolution by the kernel then keeps symlinks in check
 * ({@link FileResolver}); this class is the first of two independent barriers.
 */
final class RequestPath {
    static final int OK = 0;

    private final MemorySegment buffer;
    private final int maxPath;
    private int length;
    private boolean trailingSlash;
    private long rawPathStart;
    private long rawPathEnd;

    /**
     * @param buffer  native scratch of at least {@code maxPath + 64} bytes, reused per request
     * @param maxPath longest decoded path accepted
     */
    RequestPath(MemorySegment buffer, int maxPath) {
        if (buffer.byteSize() < maxPath + 64L) {
            throw new IllegalArgumentException("path buffer too small for " + maxPath);
        }
        this.buffer = buffer;
        this.maxPath = maxPath;
    }

    /** The NUL-terminated relative path ("." for the root itself). */
    MemorySegment buffer() {
        return buffer;
    }

    /** Bytes of the relative path, without the NUL. */
    int length() {
        return length;
    }

    /** Whether the target named a directory explicitly (ends in "/", ".", ".."). */
    boolean trailingSlash() {
        return trailingSlash;
    }

    /** Start of the raw (still encoded) path in the request, for a redirect's Location. */
    long rawPathStart() {
        return rawPathStart;
    }

    /** End of the raw path (where the query starts, if any). */
    long rawPathEnd() {
        return rawPathEnd;
    }

    /** Decodes the target {@code [from, to)} of {@code s}; returns {@link #OK}, 400 or 414. */
    int decode(MemorySegment s, long from, long to) {
        long start = pathStart(s, from, to);
        if (start < 0) {
            return HttpRequestParser.BAD_REQUEST;
        }
        long end = start;
        while (end < to) {
            byte b = s.get(JAVA_BYTE, end);
            if (b == '?' || b == '#') {
                break;
            }
            end++;
        }
        rawPathStart = start;
        rawPathEnd = end;
        if (start == end) {
            // absolute-form with an empty path: "http://host" means "/"
            return finish(0, true);
        }
        int decoded = percentDecode(s, start, end);
        if (decoded < 0) {
            return -decoded;
        }
        if (!Utf8.isWellFormed(buffer, 0, decoded)) {
            return HttpRequestParser.BAD_REQUEST;
        }
        return normalise(decoded);
    }

    /** Where the path of an origin-form or absolute-form target begins, or -1. */
    private static long pathStart(MemorySegment s, long from, long to) {
        if (from < to && s.get(JAVA_BYTE, from) == '/') {
            return from;
        }
        long colon = Ascii.indexOf(s, from, to, (byte) ':');
        if (colon < 0 || colon + 3 > to || s.get(JAVA_BYTE, colon + 1) != '/' || s.get(JAVA_BYTE, colon + 2) != '/') {
            return -1;
        }
        if (!Ascii.equalsIgnoreCase(s, from, colon, HTTP) && !Ascii.equalsIgnoreCase(s, from, colon, HTTPS)) {
            return -1;
        }
        long slash = Ascii.indexOf(s, colon + 3, to, (byte) '/');
        if (slash == colon + 3) {
            return -1; // no authority
        }
        return slash < 0 ? to : slash;
    }

    private static final byte[] HTTP = Ascii.bytes("http");
    private static final byte[] HTTPS = Ascii.bytes("https");

    /** Decodes {@code [from, to)} into the buffer; returns the length, or -400 / -414. */
    private int percentDecode(MemorySegment s, long from, long to) {
        int w = 0;
        for (long i = from; i < to; i++) {
            int b = Ascii.at(s, i);
            if (b == '%') {
                if (i + 2 >= to) {
                    return -HttpRequestParser.BAD_REQUEST;
                }
                int hi = Ascii.hexValue(Ascii.at(s, i + 1));
                int lo = Ascii.hexValue(Ascii.at(s, i + 2));
                if (hi < 0 || lo < 0) {
                    return -HttpRequestParser.BAD_REQUEST;
                }
                b = hi << 4 | lo;
                i += 2;
            }
            if (b < 0x20 || b == 0x7F || b == '\\') {
                return -HttpRequestParser.BAD_REQUEST; // NUL, controls, and a separator on other systems
            }
            if (w >= maxPath) {
                return -HttpRequestParser.URI_TOO_LONG;
            }
            buffer.set(JAVA_BYTE, w++, (byte) b);
        }
        return w;
    }

    /**
     * Resolves "." and ".." and drops empty segments, in place: the write position never
     * passes the read position. The result has no leading slash.
     */
    private int normalise(int n) {
        int w = 0;
        int r = 0;
        boolean dirEnd = false;
        while (r < n) {
            while (r < n && buffer.get(JAVA_BYTE, r) == '/') {
                r++;
            }
            if (r >= n) {
                dirEnd = true;
                break;
            }
            int segStart = r;
            while (r < n && buffer.get(JAVA_BYTE, r) != '/') {
                r++;
            }
            int segLen = r - segStart;
            if (segLen == 1 && buffer.get(JAVA_BYTE, segStart) == '.') {
                dirEnd = true;
                continue;
            }
            if (segLen == 2 && buffer.get(JAVA_BYTE, segStart) == '.' && buffer.get(JAVA_BYTE, segStart + 1) == '.') {
                if (w == 0) {
                    return HttpRequestParser.BAD_REQUEST; // above the root
                }
                w--; // the '/' after the previous segment
                while (w > 0 && buffer.get(JAVA_BYTE, w - 1) != '/') {
                    w--;
                }
                dirEnd = true;
                continue;
            }
            MemorySegment.copy(buffer, segStart, buffer, w, segLen);
            w += segLen;
            buffer.set(JAVA_BYTE, w++, (byte) '/');
            dirEnd = false;
        }
        if (w > 0) {
            w--; // the separator after the last segment
        }
        return finish(w, dirEnd);
    }

    private int finish(int w, boolean dirEnd) {
        trailingSlash = dirEnd || w == 0;
        if (w == 0) {
            buffer.set(JAVA_BYTE, 0, (byte) '.');
            w = 1;
        }
        buffer.set(JAVA_BYTE, w, (byte) 0);
        length = w;
        return OK;
    }

    /**
     * Appends {@code "/index.html"} (or {@code "index.html"} at the root) to the path now in the
     * buffer, for a directory asked with its slash. The buffer has room by construction.
     */
    void appendIndex(byte[] indexName) {
        int w = length;
        if (length == 1 && buffer.get(JAVA_BYTE, 0) == '.') {
            w = 0;
        } else {
            buffer.set(JAVA_BYTE, w++, (byte) '/');
        }
        MemorySegment.copy(indexName, 0, buffer, JAVA_BYTE, w, indexName.length);
        w += indexName.length;
        buffer.set(JAVA_BYTE, w, (byte) 0);
        length = w;
    }

    /**
     * Appends {@code suffix} (such as {@code .br}) to the path, for a precompressed variant;
     * false, leaving the path alone, when it would not fit. {@link #truncate} takes it off.
     */
    boolean appendSuffix(byte[] suffix) {
        if (length + suffix.length + 1 > buffer.byteSize()) {
            return false;
        }
        MemorySegment.copy(suffix, 0, buffer, JAVA_BYTE, length, suffix.length);
        length += suffix.length;
        buffer.set(JAVA_BYTE, length, (byte) 0);
        return true;
    }

    /** Cuts the path back to {@code n} bytes (after {@link #appendSuffix}). */
    void truncate(int n) {
        length = n;
        buffer.set(JAVA_BYTE, n, (byte) 0);
    }

    /** Sets the buffer to {@code path} (ASCII/UTF-8, relative); for tests and revalidation. */
    void set(byte[] path, boolean slash) {
        MemorySegment.copy(path, 0, buffer, JAVA_BYTE, 0, path.length);
        buffer.set(JAVA_BYTE, path.length, (byte) 0);
        length = path.length;
        trailingSlash = slash;
    }
}
