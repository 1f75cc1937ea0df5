package dev.keel.zerocopy.http;

import dev.keel.zerocopy.FileRegion;
import dev.keel.ffm.PageCache;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.SyscallException;
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
 * <p>Read-ahead on: a region is handed to the transport in chunks of
 * {@link FileRegion#MAX_CHUNK}, and before each one its first and last pages are probed
 * ({@link Residency}); a cold chunk goes to the {@link ReadAhead} pool first, so the loop never
 * waits for the disk (the head then goes ahead alone, since the loop's head buffer is
 * reused meanwhile).
 *
 * <p>HTTPS in user space: bodies are read with pread(2) into the loop's off-heap buffer,
 * encrypted, and written with {@link Connection#write}, a buffer's worth after another as the
 * queue drains ({@link #pump}). Kernel TLS (a connection whose socket the kernel encrypts): every
 * answer leaves as for plain HTTP, file regions included, and the kernel encrypts them.
 *
 * <p>The session's file stays open while the transport may read it: it is released when the
 * region is over ({@link #fileSent}) or when the connection closed ({@code onClose}), both of
 * which io-core calls only once the kernel no longer reads the file. After any call that can
 * close the connection ({@code write}, {@code writeFile}), {@link HttpSession#done} is checked.
 */
final class BodySender {
    /** HTTPS: buffers of {@link LoopResources#TLS_FILE_BUFFER} encrypted per writable event before yielding. */
    private static final int TLS_CHUNKS_PER_EVENT = 16;
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
        if (userSpaceTls(s)) {
            tlsWrite(r, s, r.head.buffer(), 0, r.head.length());
            return;
        }
        s.connection.write(r.head.slice(r.head.length()));
    }

    /**
     * Whether the session's bytes are encrypted here (HTTPS in user space): false for plain
     * HTTP and for kernel TLS, where the kernel encrypts what the transport writes, so heads and
     * file regions go out exactly as for plain HTTP.
     */
    private static boolean userSpaceTls(HttpSession s) {
        return s.tls != null && !s.tls.kernelMode();
    }

    /** HTTPS: encrypts {@code length} bytes at {@code offset} of {@code data} onto the connection. */
    private void tlsWrite(LoopResources r, HttpSession s, MemorySegment data, long offset, long length) {
        if (!r.tls.write(s.connection, s.tls, data, offset, length)) {
            s.done = true; // the TLS engine failed the connection and closed it
        }
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
            if (userSpaceTls(s)) {
                tlsWrite(r, s, buffer, 0, headLength + length);
            } else {
                c.write(r.head.slice((int) (headLength + length)));
            }
            return;
        }
        if (userSpaceTls(s)) {
            tlsWrite(r, s, buffer, 0, headLength);
            if (!s.done) {
                tlsWrite(r, s, body, first, length);
            }
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
        s.sendPosition = first;
        s.sendRemaining = length;
        if (userSpaceTls(s)) {
            head(r, s);
            if (!s.done) {
                pump(r, s);
            }
            return;
        }
        sendRegion(r, s, r.head.slice(r.head.length()));
    }

    /**
     * Starts a multipart/byteranges body of the session's parts ({@link HttpSession#partFirst},
     * {@link HttpSession#partLast}) after the head in the loop's buffer: the first part's head
     * is appended to the answer's, and both go before the first part's bytes.
     */
    void startMultipart(LoopResources r, HttpSession s) {
        s.phase = HttpSession.SENDING;
        s.part = 0;
        if (userSpaceTls(s)) {
            s.partHeadSent = false;
            s.sendPosition = s.partFirst[0];
            s.sendRemaining = s.partLast[0] - s.partFirst[0] + 1;
            head(r, s);
            if (!s.done) {
                pump(r, s);
            }
            return;
        }
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
     * The file region handed to the transport is over ({@code error} 0: sent): the region's next
     * chunk (read-ahead on), the next part, or the end of the answer; after a failure the file
     * is marked broken (the cache opens it afresh: EIO, or a file that shrank under us) and the
     * connection closes, since the promised length cannot be kept.
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
        if (s.sendRemaining > 0) {
            sendRegion(r, s, r.emptyHead);
            return;
        }
        afterRegion(r, s);
    }

    /** A region (or part) is out: the next part, or the close delimiter and the end of the answer. */
    private void afterRegion(LoopResources r, HttpSession s) {
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
        s.sendPosition = first;
        s.sendRemaining = last - first + 1;
        sendRegion(r, s, h.slice(h.length()));
    }

    /**
     * Plain HTTP: hands the transport {@code head} and the rest of the session's region
     * ({@link HttpSession#sendPosition}, {@link HttpSession#sendRemaining}), all of it, or with
     * read-ahead on its next chunk once that chunk is in the page cache.
     */
    private void sendRegion(LoopResources r, HttpSession s, MemorySegment head) {
        Connection c = s.connection;
        long want = s.sendRemaining;
        if (config.readAhead() != null) {
            want = Math.min(want, FileRegion.MAX_CHUNK);
            if (!cached(r, s, want)) {
                if (head.byteSize() > 0) {
                    c.write(head); // copied: the loop's head buffer serves others while the disk reads
                    if (s.done) {
                        return;
                    }
                }
                if (readAhead(r, s, want)) {
                    return;
                }
                head = r.emptyHead;
            }
        }
        long position = s.sendPosition;
        s.sendPosition += want;
        s.sendRemaining -= want;
        c.writeFile(head, s.file.fd, position, want);
    }

    /** HTTPS: moves the body on, called when the answer starts and on every writable event after. */
    void pump(LoopResources r, HttpSession s) {
        if (!userSpaceTls(s)) {
            return; // plain HTTP or kernel TLS: the transport moves file regions by itself
        }
        Connection c = s.connection;
        int tlsChunks = TLS_CHUNKS_PER_EVENT;
        while (!s.done && !s.awaitingDisk) {
            if (c.pendingOutputBytes() > 0) {
                c.notifyWhenWritable(); // encrypt no more than the socket takes
                return;
            }
            if (s.parts > 0 && !s.partHeadSent) {
                s.partHeadSent = true;
                writePartHead(r, s);
                continue;
            }
            if (config.readAhead() != null && s.sendRemaining > 0) {
                long want = Math.min(s.sendRemaining, FileRegion.MAX_CHUNK);
                if (!cached(r, s, want) && readAhead(r, s, want)) {
                    return; // the chunk is cold: a reader fetches it, and pump goes on when it is cached
                }
            }
            if (s.sendRemaining > 0 && !tlsChunk(r, s)) {
                return;
            }
            if (s.sendRemaining == 0) {
                if (s.parts > 0 && ++s.part < s.parts) {
                    s.partHeadSent = false;
                    s.sendPosition = s.partFirst[s.part];
                    s.sendRemaining = s.partLast[s.part] - s.partFirst[s.part] + 1;
                    continue;
                }
                if (s.parts > 0) {
                    writeCloseDelimiter(r, s);
                    if (s.done) {
                        return;
                    }
                }
                finish(r, s);
                return;
            }
            if (c.pendingOutputBytes() > 0 || --tlsChunks == 0) {
                c.notifyWhenWritable(); // records wait in io-core's queue, or other connections' turn
                return;
            }
        }
    }

    /** Whether the first and last pages of the session's next {@code want} bytes are in the page cache. */
    private static boolean cached(LoopResources r, HttpSession s, long want) {
        long before = r.residency.probes();
        boolean cached = r.residency.resident(s.file.fd, s.sendPosition, want);
        s.connection.loop().stats().countSyscalls((int) (r.residency.probes() - before));
        return cached;
    }

    /**
     * Hands the session's next {@code want} bytes, found cold, to the read-ahead pool: the session
     * then waits ({@link HttpSession#awaitingDisk}), holding one more reference to the file so its
     * descriptor outlives the read, and the pool's answer, on this loop, goes on with the send.
     * False when the pool is full: the caller sends at once instead.
     */
    private boolean readAhead(LoopResources r, HttpSession s, long want) {
        Connection c = s.connection;
        CachedFile f = s.file;
        f.retain();
        s.awaitingDisk = true;
        boolean queued = config.readAhead().submit(c.loop(), f.fd, s.sendPosition, want, () -> {
            f.release();
            if (s.connection == c && s.awaitingDisk && c.isOpen()) {
                s.awaitingDisk = false;
                if (userSpaceTls(s)) {
                    pump(r, s);
                } else {
                    sendRegion(r, s, r.emptyHead);
                }
            }
        });
        if (!queued) {
            s.awaitingDisk = false;
            f.release();
        }
        return queued;
    }

    /**
     * HTTPS: reads up to {@link LoopResources#TLS_FILE_BUFFER} bytes of the body with pread(2)
     * into the loop's off-heap buffer and encrypts them onto the connection (the bytes pass
     * through user space once; they never touch the Java heap). False when the send cannot go
     * on (the file failed or shrank, or the connection closed).
     */
    private boolean tlsChunk(LoopResources r, HttpSession s) {
        Connection c = s.connection;
        long want = Math.min(s.sendRemaining, LoopResources.TLS_FILE_BUFFER);
        long n;
        c.loop().stats().countSyscalls(1);
        try {
            do {
                n = PageCache.pread(s.file.fd, r.tlsFileBuffer, want, s.sendPosition);
            } while (n == -Errno.EINTR);
        } catch (SyscallException e) {
            s.file.broken = true;
            handler.abort(s);
            return false;
        }
        if (n <= 0) {
            s.file.broken = true; // the file shrank under us: the promised length cannot be kept
            handler.abort(s);
            return false;
        }
        s.sendPosition += n;
        s.sendRemaining -= n;
        tlsWrite(r, s, r.tlsFileBuffer, 0, n);
        return !s.done;
    }

    private void writePartHead(LoopResources r, HttpSession s) {
        CachedFile f = s.file;
        ResponseHead h = r.head.clear();
        h.put(DASHES).put(config.boundary()).put(PART_TYPE).put(f.contentType).put(PART_RANGE)
                .decimal(s.partFirst[s.part]).put(DASH).decimal(s.partLast[s.part]).put(SLASH).decimal(f.size)
                .put(PART_END);
        head(r, s);
    }

    private void writeCloseDelimiter(LoopResources r, HttpSession s) {
        ResponseHead h = r.head.clear();
        h.put(DASHES).put(config.boundary()).put(CLOSE_DELIMITER_END);
        head(r, s);
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
