package dev.keel.zerocopy.http;

import dev.keel.io.Connection;

import java.lang.foreign.MemorySegment;

/**
 * Puts answers on the wire, in order with what io-core has queued, through the connection's
 * API only — never a system call on its descriptor: a head alone, a head and a small cached
 * body in one write, or a head followed by a file region ({@link Connection#writeFile}), part
 * after part for multipart/byteranges. The transport carries the file its own way (epoll:
 * sendfile; io_uring: splice in the ring) and reports the end with
 * {@link StaticFileHandler#onFileSent}, which lands in {@link #fileSent}.
 *
 * <p>Small answers leave in one TCP segment: a head and a cached body are copied side by side
 * into the loop's head buffer and written at once; the head before a file region goes with
 * MSG_MORE (the transport's doing), so it shares a segment with the file's first bytes; each
 * part head of a multipart answer goes the same way before its part.
 *
 * <p>The session's file stays open while the transport may read it: it is released when the
 * region is over ({@link #fileSent}) or when the connection closed ({@code onClose}), both of
 * which io-core calls only once the kernel no longer reads the file. After any call that can
 * close the connection ({@code write}, {@code writeFile}), {@link HttpSession#done} is checked.
 */
final class BodySender {
    private static final byte[] DASHES = Ascii.bytes("\r\n--");
    private static final byte[] PART_TYPE = Ascii.bytes("\r\nContent-Type: ");
    private static final byte[] PART_RANGE = Ascii.bytes("\r\nContent-Range: bytes ");
    private static final byte[] PART_END = Ascii.bytes("\r\n\r\n");
    private static final byte[] CLOSE_DELIMITER_END = Ascii.bytes("--\r\n");
    private static final byte[] DASH = {'-'};
    private static final byte[] SLASH = {'/'};

    private final ServerConfig config;
    private final StaticFileHandler handler;

    BodySender(ServerConfig config, StaticFileHandler handler) {
        this.config = config;
        this.handler = handler;
    }

    /** Sends the head now in the loop's head buffer, with nothing after it. */
    void head(LoopResources r, HttpSession s) {
        s.connection.write(r.head.slice(r.head.length()));
    }

    /**
     * Sends the head then {@code length} bytes of {@code body} from {@code first}: in one write
     * when the body fits behind the head in the loop's head buffer (it does up to the small-file
     * limit's default), else in two.
     */
    void headAndBody(LoopResources r, HttpSession s, MemorySegment body, long first, long length) {
        Connection c = s.connection;
        int headLength = r.head.length();
        MemorySegment buffer = r.head.buffer();
        if (headLength + length <= buffer.byteSize()) {
            MemorySegment.copy(body, first, buffer, headLength, length);
            c.write(r.head.slice((int) (headLength + length)));
            return;
        }
        c.write(r.head.slice(headLength));
        if (!s.done) {
            c.write(first == 0 && length == body.byteSize() ? body : body.asSlice(first, length));
        }
    }

    /**
     * Starts sending {@code length} bytes of the session's file from {@code first} after the
     * head in the loop's buffer. The session must already hold the file (so a close during the
     * send releases it).
     */
    void startFile(LoopResources r, HttpSession s, long first, long length) {
        s.phase = HttpSession.SENDING;
        s.connection.writeFile(r.head.slice(r.head.length()), s.file.fd, first, length);
    }

    /**
     * Starts a multipart/byteranges body of the session's parts ({@link HttpSession#partFirst},
     * {@link HttpSession#partLast}) after the head in the loop's buffer: the first part's head
     * is appended to the answer's, and both go before the first part's bytes.
     */
    void startMultipart(LoopResources r, HttpSession s) {
        s.phase = HttpSession.SENDING;
        s.part = 0;
        sendPart(r, s, r.head);
    }

    /** Length of the whole multipart body for the session's parts of a file of {@code size} bytes. */
    long multipartLength(HttpSession s, byte[] contentType, long size) {
        long total = 0;
        for (int i = 0; i < s.parts; i++) {
            total += partHeadLength(contentType, s.partFirst[i], s.partLast[i], size)
                    + s.partLast[i] - s.partFirst[i] + 1;
        }
        return total + DASHES.length + config.boundary().length + CLOSE_DELIMITER_END.length;
    }

    private long partHeadLength(byte[] contentType, long first, long last, long size) {
        return DASHES.length + config.boundary().length + PART_TYPE.length + contentType.length + PART_RANGE.length
                + digits(first) + 1 + digits(last) + 1 + digits(size) + PART_END.length;
    }

    private static int digits(long v) {
        int n = 1;
        while (v >= 10) {
            v /= 10;
            n++;
        }
        return n;
    }

    /**
     * The file region of the answer in progress is over ({@code error} 0: sent): the next part,
     * or the end of the answer; after a failure the file is marked broken (the cache opens it
     * afresh: EIO, or a file that shrank under us) and the connection closes, since the promised
     * length cannot be kept.
     */
    void fileSent(LoopResources r, HttpSession s, int error) {
        if (s.done || s.phase != HttpSession.SENDING) {
            return;
        }
        if (error != 0) {
            s.file.broken = true;
            handler.abort(s);
            return;
        }
        if (s.parts > 0 && ++s.part < s.parts) {
            sendPart(r, s, r.head.clear());
            return;
        }
        if (s.parts > 0) {
            writeCloseDelimiter(r, s);
            if (s.done) {
                return;
            }
        }
        finish(r, s);
    }

    /** Puts the current part's head in {@code h} (after what it holds) and sends it and the part. */
    private void sendPart(LoopResources r, HttpSession s, ResponseHead h) {
        CachedFile f = s.file;
        long first = s.partFirst[s.part];
        long last = s.partLast[s.part];
        h.put(DASHES).put(config.boundary()).put(PART_TYPE).put(f.contentType).put(PART_RANGE)
                .decimal(first).put(DASH).decimal(last).put(SLASH).decimal(f.size).put(PART_END);
        s.connection.writeFile(h.slice(h.length()), f.fd, first, last - first + 1);
    }

    private void writeCloseDelimiter(LoopResources r, HttpSession s) {
        ResponseHead h = r.head.clear();
        h.put(DASHES).put(config.boundary()).put(CLOSE_DELIMITER_END);
        s.connection.write(h.slice(h.length()));
    }

    /** The body is out: release what the answer held and go on with the connection. */
    private void finish(LoopResources r, HttpSession s) {
        release(s);
        s.phase = HttpSession.IDLE;
        s.parts = 0;
        handler.answerDone(r, s);
    }

    /** Lets go of the file of the answer in progress, if any. */
    static void release(HttpSession s) {
        if (s.file != null) {
            s.file.release();
            s.file = null;
        }
    }
}
