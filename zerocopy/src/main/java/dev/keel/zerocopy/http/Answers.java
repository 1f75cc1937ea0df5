package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Decides the answer to one parsed request and builds its head: method and framing checks,
 * path decoding, the open-file cache, conditional requests (If-None-Match, If-Modified-Since,
 * RFC 9110 13.2.2 order), ranges (If-Range, 206, 416, multipart/byteranges), and the error
 * pages. The body itself is left to {@link BodySender}.
 */
final class Answers {
    private static final int NOT_MODIFIED = 304;

    private final ServerConfig config;
    private final BodySender sender;
    private final StaticFileHandler handler;

    Answers(ServerConfig config, BodySender sender, StaticFileHandler handler) {
        this.config = config;
        this.sender = sender;
        this.handler = handler;
    }

    /** Answers {@code q}, parsed into the loop's request flyweight. */
    void answer(LoopResources r, HttpSession s, HttpRequest q) {
        s.requests++;
        boolean keepAlive = q.keepAlive() && s.requests < config.maxRequests();
        if (q.method == HttpRequest.UNKNOWN) {
            error(r, s, q, 501, false);
            return;
        }
        if (q.transferEncoding) {
            error(r, s, q, 501, false); // a chunked request body: not read by a static server
            return;
        }
        if (q.contentLength > config.maxBodySkip()) {
            error(r, s, q, 413, false);
            return;
        }
        if (q.contentLength > 0) {
            s.bodyToSkip = q.contentLength; // read and dropped before the next request
        }
        if (q.method == HttpRequest.OTHER) {
            error(r, s, q, 405, keepAlive);
            return;
        }
        int status = r.path.decode(q.source, q.targetStart, q.targetEnd);
        if (status != RequestPath.OK) {
            error(r, s, q, status, keepAlive);
            return;
        }
        status = r.cache.acquire(r.path, System.nanoTime());
        if (status == OpenFileCache.REDIRECT) {
            redirect(r, s, q, keepAlive);
        } else if (status != OpenFileCache.OK) {
            error(r, s, q, status, keepAlive);
        } else {
            file(r, s, q, r.cache.found(), keepAlive);
        }
    }

    /** An answer with a file found: {@code f} is retained for this call and released by it or its transfer. */
    private void file(LoopResources r, HttpSession s, HttpRequest q, CachedFile original, boolean keepAlive) {
        long now = System.currentTimeMillis();
        CachedFile f = original;
        int coding = ContentCoding.IDENTITY;
        if (config.precompressed()) {
            CachedFile v = Precompressed.variant(r, q, original, System.nanoTime());
            if (v != null) {
                f = v;
                coding = r.coding;
                original.release(); // the variant is answered: its bytes, its validators
            }
        }
        byte[] contentType = original.contentType;
        if (notModified(q, f)) {
            ResponseHead h = r.head.start(NOT_MODIFIED, now).validators(f);
            vary(h, coding);
            h.end(keepAlive, q.minorVersion);
            log(r, s, q, NOT_MODIFIED, 0);
            f.release();
            sendHeadOnly(r, s, keepAlive);
            return;
        }
        long first = 0;
        long length = f.size;
        int status = 200;
        if (q.hasRange() && ifRangeHolds(q, f)) {
            int n = r.ranges.parse(q.source, q.rangeStart, q.rangeEnd, f.size);
            if (n > 1 && coding != ContentCoding.IDENTITY) {
                n = ByteRanges.IGNORE; // several ranges of a variant: the whole variant (RFC 9110 14.2 lets a server ignore Range)
            }
            if (n == ByteRanges.UNSATISFIABLE) {
                f.release();
                rangeNotSatisfiable(r, s, q, f.size, keepAlive);
                return;
            }
            if (n == 1) {
                status = 206;
                first = r.ranges.first(0);
                length = r.ranges.length(0);
            } else if (n > 1) {
                multipart(r, s, q, f, n, keepAlive, now);
                return;
            }
        }
        ResponseHead h = r.head.start(status, now).contentType(contentType).contentLength(length).validators(f)
                .acceptRanges();
        vary(h, coding);
        if (status == 206) {
            h.contentRange(first, first + length - 1, f.size);
        }
        h.end(keepAlive, q.minorVersion);
        log(r, s, q, status, length);
        if (q.isHead() || length == 0) {
            f.release();
            sendHeadOnly(r, s, keepAlive);
        } else if (f.body != null) {
            sender.headAndBody(r, s, f.body, first, length);
            f.release();
            handler.answerSent(r, s, keepAlive);
        } else {
            s.file = f; // held by the session from here: a close releases it
            s.closeAfter = !keepAlive;
            sender.startFile(r, s, first, length);
        }
    }

    /** Content-Encoding for a variant, and Vary whenever variants are served at all (the answer depends on the field). */
    private void vary(ResponseHead h, int coding) {
        if (coding != ContentCoding.IDENTITY) {
            h.contentEncoding(ContentCoding.NAMES[coding]);
        }
        if (config.precompressed()) {
            h.varyAcceptEncoding();
        }
    }

    private void multipart(LoopResources r, HttpSession s, HttpRequest q, CachedFile f, int n, boolean keepAlive,
                           long now) {
        s.ensureParts(n);
        for (int i = 0; i < n; i++) {
            s.partFirst[i] = r.ranges.first(i);
            s.partLast[i] = r.ranges.last(i);
        }
        s.parts = n;
        long length = sender.multipartLength(s, f.contentType, f.size);
        r.head.start(206, now).multipartType(config.boundary()).contentLength(length).validators(f).acceptRanges()
                .end(keepAlive, q.minorVersion);
        log(r, s, q, 206, length);
        if (q.isHead()) {
            s.parts = 0;
            f.release();
            sendHeadOnly(r, s, keepAlive);
            return;
        }
        s.file = f;
        s.closeAfter = !keepAlive;
        sender.startMultipart(r, s);
    }

    /** RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it. */
    private static boolean notModified(HttpRequest q, CachedFile f) {
        if (q.ifNoneMatchStart != HttpRequest.NONE) {
            return anyTagMatches(q.source, q.ifNoneMatchStart, q.ifNoneMatchEnd, f.etag);
        }
        if (q.ifModifiedSinceStart != HttpRequest.NONE) {
            long since = HttpDates.parse(q.source, q.ifModifiedSinceStart, q.ifModifiedSinceEnd);
            return since != HttpDates.INVALID && f.mtimeSeconds <= since;
        }
        return false;
    }

    /** Weak comparison (RFC 9110 8.8.3.2) of each tag of a list, or "*". */
    static boolean anyTagMatches(MemorySegment s, long from, long to, byte[] etag) {
        if (to - from == 1 && s.get(JAVA_BYTE, from) == '*') {
            return true;
        }
        long p = from;
        while (p < to) {
            byte b = s.get(JAVA_BYTE, p);
            if (b == ' ' || b == '\t' || b == ',') {
                p++;
                continue;
            }
            if (b == 'W' && p + 1 < to && s.get(JAVA_BYTE, p + 1) == '/') {
                p += 2;
            }
            if (p >= to || s.get(JAVA_BYTE, p) != '"') {
                return false; // not a list of entity tags: no match
            }
            long close = Ascii.indexOf(s, p + 1, to, (byte) '"');
            if (close < 0) {
                return false;
            }
            if (Ascii.equals(s, p, close + 1, etag)) {
                return true;
            }
            p = close + 1;
        }
        return false;
    }

    /**
     * RFC 9110 13.1.5: without If-Range the Range applies; with it only when the validator is
     * the current strong ETag or exactly the Last-Modified date. Otherwise the whole file.
     */
    private static boolean ifRangeHolds(HttpRequest q, CachedFile f) {
        if (q.ifRangeStart == HttpRequest.NONE) {
            return true;
        }
        MemorySegment s = q.source;
        if (q.ifRangeEnd > q.ifRangeStart && s.get(JAVA_BYTE, q.ifRangeStart) == '"') {
            return Ascii.equals(s, q.ifRangeStart, q.ifRangeEnd, f.etag);
        }
        if (q.ifRangeEnd - q.ifRangeStart >= 2 && s.get(JAVA_BYTE, q.ifRangeStart) == 'W'
                && s.get(JAVA_BYTE, q.ifRangeStart + 1) == '/') {
            return false; // a weak tag never validates a range
        }
        long date = HttpDates.parse(s, q.ifRangeStart, q.ifRangeEnd);
        return date != HttpDates.INVALID && date == f.mtimeSeconds;
    }

    private void rangeNotSatisfiable(LoopResources r, HttpSession s, HttpRequest q, long size, boolean keepAlive) {
        byte[] page = Status.page(416);
        r.head.start(416, System.currentTimeMillis()).htmlType().contentLength(page.length).unsatisfiedRange(size)
                .end(keepAlive, q.minorVersion);
        finishPage(r, s, q, 416, page, keepAlive);
    }

    private void redirect(LoopResources r, HttpSession s, HttpRequest q, boolean keepAlive) {
        byte[] page = Status.page(301);
        r.head.start(301, System.currentTimeMillis())
                .locationWithSlash(q.source, r.path.rawPathStart(), r.path.rawPathEnd(), q.targetEnd)
                .htmlType().contentLength(page.length).end(keepAlive, q.minorVersion);
        finishPage(r, s, q, 301, page, keepAlive);
    }

    /** An error page for {@code status}; {@code q} may be null when no request could be parsed. */
    void error(LoopResources r, HttpSession s, HttpRequest q, int status, boolean keepAlive) {
        if (!Status.known(status)) {
            status = 500;
        }
        byte[] page = Status.page(status);
        ResponseHead h = r.head.start(status, System.currentTimeMillis()).htmlType().contentLength(page.length);
        if (status == 405) {
            h.allow();
        }
        h.end(keepAlive, q != null ? q.minorVersion : 1);
        finishPage(r, s, q, status, page, keepAlive);
    }

    private void finishPage(LoopResources r, HttpSession s, HttpRequest q, int status, byte[] page, boolean keepAlive) {
        boolean head = q != null && q.isHead();
        if (!head) {
            r.head.put(page);
        }
        log(r, s, q, status, head ? 0 : page.length);
        sendHeadOnly(r, s, keepAlive);
    }

    private void sendHeadOnly(LoopResources r, HttpSession s, boolean keepAlive) {
        sender.head(r, s);
        handler.answerSent(r, s, keepAlive);
    }

    private static void log(LoopResources r, HttpSession s, HttpRequest q, int status, long bytes) {
        if (r.log == null) {
            return;
        }
        if (q == null || q.targetEnd == 0) {
            r.log.record(s.peer, s.peerLength, r.head.date(), MemorySegment.NULL, 0, 0, status, bytes);
        } else {
            r.log.record(s.peer, s.peerLength, r.head.date(), q.source, q.methodStart, q.targetEnd + 9, status, bytes);
        }
    }
}
