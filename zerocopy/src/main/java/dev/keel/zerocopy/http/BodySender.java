package dev.keel.zerocopy.http;

import dev.keel.zerocopy.FileRegion;
import dev.keel.ffm.PageCache;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.io.Connection;
import dev.keel.zerocopy.tls.TlsConnection;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.Errno.ECONNRESET;
import static dev.keel.ffm.gen.Errno.ENOTCONN;
import static dev.keel.ffm.gen.Errno.EPIPE;
import static dev.keel.ffm.gen.Errno.ETIMEDOUT;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP;
import static dev.keel.ffm.gen.LinuxConstants.MSG_MORE;
import static dev.keel.ffm.gen.LinuxConstants.MSG_NOSIGNAL;
import static dev.keel.ffm.gen.LinuxConstants.TCP_CORK;

/**
 * Puts answers on the wire in order with what io-core has queued: a head alone, a head and a
 * small cached body in one writev(2), or a head followed by a {@link FileRegion} sent with
 * sendfile (or splice) in chunks as the socket takes them, part after part for
 * multipart/byteranges.
 *
 * <p>Small answers leave in one TCP segment: a head and a cached body go in one writev; a
 * head before sendfile goes with MSG_MORE so the kernel waits for the file's first bytes;
 * a multipart answer, a chain of small heads and file parts, is sent under TCP_CORK.
 *
 * <p>Anything written by hand on the connection's descriptor goes out only when io-core's
 * queue is empty; otherwise it waits for {@code onWritable}. After any call that can close the
 * connection ({@code write}, a failed syscall), {@link HttpSession#done} is checked: the close
 * callback has then already released the session's file and pipe.
 */
final class BodySender {
    /** Chunks of {@link FileRegion#MAX_CHUNK} sent per writable event before yielding to other connections. */
    private static final int CHUNKS_PER_EVENT = 2;
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
        if (userTls(s)) {
            tlsWrite(r, s, r.head.buffer(), 0, r.head.length());
            return;
        }
        s.connection.write(r.head.slice(r.head.length()));
    }

    /**
     * Whether output must be encrypted here: HTTPS in user space. A connection in kernel TLS
     * mode writes plaintext to its socket like plain HTTP, and the kernel encrypts it.
     */
    private static boolean userTls(HttpSession s) {
        return s.tls != null && !s.tls.kernelMode();
    }

    /** HTTPS: encrypts {@code length} bytes at {@code offset} of {@code data} onto the connection. */
    private void tlsWrite(LoopResources r, HttpSession s, MemorySegment data, long offset, long length) {
        if (!r.tls.write(s.connection, s.tls, data, offset, length)) {
            s.done = true; // the TLS engine failed the connection and closed it
        }
    }

    /** Sends the head then {@code length} bytes of {@code body} from {@code first}, with one writev when it can. */
    void headAndBody(LoopResources r, HttpSession s, MemorySegment body, long first, long length) {
        Connection c = s.connection;
        int headLength = r.head.length();
        if (userTls(s)) {
            tlsWrite(r, s, r.head.buffer(), 0, headLength);
            if (!s.done) {
                tlsWrite(r, s, body, first, length);
            }
            return;
        }
        if (c.pendingOutputBytes() > 0) {
            c.write(r.head.slice(headLength));
            if (!s.done) {
                c.write(body.asSlice(first, length));
            }
            return;
        }
        Uio.setIovec(r.iovecs, 0, r.head.buffer().address(), headLength);
        Uio.setIovec(r.iovecs, 1, body.address() + first, length);
        long n;
        c.loop().stats().countSyscalls(1);
        try {
            n = Math.max(0, Uio.writev(c.fd(), r.iovecs, 2));
        } catch (SyscallException e) {
            handler.abort(s);
            return;
        }
        c.recordOutput(n);
        if (n < headLength) {
            c.write(r.head.buffer().asSlice(n, headLength - n));
            if (!s.done) {
                c.write(body.asSlice(first, length));
            }
        } else if (n < headLength + length) {
            long sentBody = n - headLength;
            c.write(body.asSlice(first + sentBody, length - sentBody));
        }
    }

    /**
     * Starts sending {@code length} bytes of the session's file from {@code first} after the
     * head in the loop's buffer. The session must already hold the file (so a close during the
     * send releases it).
     */
    void startFile(LoopResources r, HttpSession s, long first, long length) {
        s.phase = HttpSession.SENDING;
        s.region.reset(s.file.fd, first, length);
        if (userTls(s)) {
            head(r, s);
            if (!s.done) {
                pump(r, s);
            }
            return;
        }
        if (config.splice()) {
            s.pipe = r.pipes.acquire();
        }
        sendHeadWithMore(r, s);
        if (!s.done) {
            pump(r, s);
        }
    }

    /**
     * Starts a multipart/byteranges body of the session's parts ({@link HttpSession#partFirst},
     * {@link HttpSession#partLast}) after the head in the loop's buffer, under TCP_CORK.
     */
    void startMultipart(LoopResources r, HttpSession s) {
        s.phase = HttpSession.SENDING;
        s.part = 0;
        s.partHeadSent = false;
        s.region.reset(s.file.fd, s.partFirst[0], s.partLast[0] - s.partFirst[0] + 1);
        if (userTls(s)) {
            head(r, s); // records go out as they are made: no cork to hold them
            if (!s.done) {
                pump(r, s);
            }
            return;
        }
        if (config.splice()) {
            s.pipe = r.pipes.acquire();
        }
        s.connection.loop().stats().countSyscalls(1);
        try {
            Sockets.setInt(s.connection.fd(), IPPROTO_TCP, TCP_CORK, 1);
            s.corked = true;
        } catch (SyscallException e) {
            handler.abort(s);
            return;
        }
        head(r, s);
        if (!s.done) {
            pump(r, s);
        }
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

    /** Moves the body on: called when the answer starts and on every writable event after. */
    void pump(LoopResources r, HttpSession s) {
        Connection c = s.connection;
        int chunks = CHUNKS_PER_EVENT;
        int tlsChunks = TLS_CHUNKS_PER_EVENT;
        while (!s.done && !s.awaitingDisk) {
            if (c.pendingOutputBytes() > 0) {
                c.notifyWhenWritable(); // bytes written by hand must not overtake queued ones
                return;
            }
            if (s.parts > 0 && !s.partHeadSent) {
                s.partHeadSent = true;
                writePartHead(r, s);
                continue;
            }
            if (config.readAhead() != null && readAhead(r, s)) {
                return; // the chunk is cold: a reader fetches it, and pump goes on when it is cached
            }
            if (userTls(s)) {
                if (!tlsChunk(r, s)) {
                    return;
                }
                if (s.region.isDone()) {
                    if (s.parts > 0 && ++s.part < s.parts) {
                        s.partHeadSent = false;
                        s.region.reset(s.file.fd, s.partFirst[s.part], s.partLast[s.part] - s.partFirst[s.part] + 1);
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
                continue;
            }
            long n;
            c.loop().stats().countSyscalls(config.splice() ? 2 : 1); // splice: file to pipe, pipe to socket
            try {
                n = s.tls != null ? kernelTlsSend(s) : config.splice() ? s.region.spliceTo(c.fd(), s.pipe)
                        : s.region.sendTo(c.fd());
            } catch (SyscallException e) {
                if (!peerGone(e.errno())) {
                    s.file.broken = true; // EIO, EINVAL: the file cannot be read; the cache opens it afresh
                }
                handler.abort(s);
                return;
            }
            if (n > 0) {
                c.recordOutput(n);
            }
            if (s.region.isDone()) {
                if (s.parts > 0 && ++s.part < s.parts) {
                    s.partHeadSent = false;
                    s.region.reset(s.file.fd, s.partFirst[s.part], s.partLast[s.part] - s.partFirst[s.part] + 1);
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
            if (n == FileRegion.AGAIN) {
                c.notifyWhenWritable();
                return;
            }
            if (n == 0) {
                s.file.broken = true; // the file shrank under us: the promised length cannot be kept
                handler.abort(s);
                return;
            }
            if (--chunks == 0) {
                c.notifyWhenWritable(); // fair to the loop's other connections
                return;
            }
        }
    }

    /**
     * Whether the next chunk had to be handed to the read-ahead pool because its pages are not
     * cached: then the session waits ({@link HttpSession#awaitingDisk}), holding one more
     * reference to the file so its descriptor outlives the read, and the pool's answer, on this
     * loop, goes on with the send. A full pool sends at once instead.
     */
    private boolean readAhead(LoopResources r, HttpSession s) {
        Connection c = s.connection;
        long want = Math.min(s.region.remaining(), FileRegion.MAX_CHUNK);
        long before = r.residency.probes();
        boolean cached = r.residency.resident(s.file.fd, s.region.position(), want);
        c.loop().stats().countSyscalls((int) (r.residency.probes() - before));
        if (cached) {
            return false;
        }
        CachedFile f = s.file;
        f.retain();
        s.awaitingDisk = true;
        boolean queued = config.readAhead().submit(c.loop(), f.fd, s.region.position(), want, () -> {
            f.release();
            if (s.connection == c && s.awaitingDisk && c.isOpen()) {
                s.awaitingDisk = false;
                pump(r, s);
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
     * into the loop's off-heap buffer and encrypts them onto the connection (kernel TLS absent,
     * the bytes must pass through user space once; they never touch the Java heap). False when
     * the send cannot go on (the file failed or shrank, or the connection closed).
     */
    private boolean tlsChunk(LoopResources r, HttpSession s) {
        Connection c = s.connection;
        long want = Math.min(s.region.remaining(), LoopResources.TLS_FILE_BUFFER);
        long n;
        c.loop().stats().countSyscalls(1);
        try {
            do {
                n = PageCache.pread(s.file.fd, r.tlsFileBuffer, want, s.region.position());
            } while (n == -Errno.EINTR);
        } catch (SyscallException e) {
            s.file.broken = true;
            handler.abort(s);
            return false;
        }
        if (n == 0) {
            s.file.broken = true; // the file shrank under us: the promised length cannot be kept
            handler.abort(s);
            return false;
        }
        s.region.advance(n);
        tlsWrite(r, s, r.tlsFileBuffer, 0, n);
        return !s.done;
    }

    /**
     * Kernel TLS mode: SSL_sendfile of the region's next chunk, encrypted by the kernel; in
     * {@link FileRegion#sendTo}'s terms (bytes, {@link FileRegion#AGAIN}). Untested on a machine
     * without a kernel {@code tls} module (see the README).
     */
    private static long kernelTlsSend(HttpSession s) {
        long want = Math.min(s.region.remaining(), FileRegion.MAX_CHUNK);
        if (want == 0) {
            return 0;
        }
        long n = s.tls.sendfile(s.file.fd, s.region.position(), want);
        if (n > 0) {
            s.region.advance(n);
            return n;
        }
        if (n == TlsConnection.WRITE_BLOCKED) {
            return FileRegion.AGAIN;
        }
        throw new SyscallException("SSL_sendfile", Errno.EIO, String.valueOf(s.tls.failureDetail()));
    }

    /** Errors that say the client went away, not that the file failed. */
    private static boolean peerGone(int errno) {
        return errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN || errno == ETIMEDOUT;
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

    /** The head goes with MSG_MORE so that it shares a segment with the file's first bytes. */
    private void sendHeadWithMore(LoopResources r, HttpSession s) {
        Connection c = s.connection;
        int length = r.head.length();
        if (c.pendingOutputBytes() > 0) {
            head(r, s);
            return;
        }
        long n;
        c.loop().stats().countSyscalls(1);
        try {
            n = Math.max(0, Uio.send(c.fd(), r.head.buffer(), length, MSG_MORE | MSG_NOSIGNAL));
        } catch (SyscallException e) {
            handler.abort(s);
            return;
        }
        c.recordOutput(n);
        if (n < length) {
            c.write(r.head.buffer().asSlice(n, length - n));
        }
    }

    /** The body is out: release what the answer held and go on with the connection. */
    private void finish(LoopResources r, HttpSession s) {
        if (s.corked) {
            s.corked = false;
            s.connection.loop().stats().countSyscalls(1);
            try {
                Sockets.setInt(s.connection.fd(), IPPROTO_TCP, TCP_CORK, 0);
            } catch (SyscallException e) {
                handler.abort(s);
                return;
            }
        }
        release(r, s);
        s.phase = HttpSession.IDLE;
        s.parts = 0;
        handler.answerDone(r, s);
    }

    /** Lets go of the file and pipe of the answer in progress, if any. */
    static void release(LoopResources r, HttpSession s) {
        if (s.file != null) {
            s.file.release();
            s.file = null;
        }
        if (s.pipe != null) {
            r.pipes.release(s.pipe); // closed rather than pooled if bytes are left in it
            s.pipe = null;
        }
    }
}
