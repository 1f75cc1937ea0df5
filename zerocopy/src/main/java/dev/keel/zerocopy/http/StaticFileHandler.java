package dev.keel.zerocopy.http;

import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn;
import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn6;
import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;
import dev.keel.io.EventLoop;
import dev.keel.zerocopy.tls.TlsFailure;
import dev.keel.zerocopy.tls.TlsIo;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * The file server's io-core handler: turns each connection's bytes into requests and keeps
 * their answers in order.
 *
 * <p>Input is parsed straight from the loop's read buffer; only what is left when a call
 * ends (half a head, or pipelined requests behind an answer still being sent) is copied to
 * the session's input buffer, and reading pauses while such requests wait, so a client cannot
 * make the server buffer more than one head and one read. Answers go out strictly in request
 * order: the next request is parsed only when the previous answer is fully handed to the
 * kernel or to io-core's queue; and when that queue grows past a threshold (small answers to
 * a long pipeline), parsing waits for it to drain.
 *
 * <p>A head that arrives in pieces is timed from its first byte ({@link HeaderDeadlines}): a
 * client that trickles it (slowloris) is answered 408 and closed after the header timeout,
 * however regularly its bytes come.
 *
 * <p>A connection the server decides to close (an error that breaks framing, Connection:
 * close, the request limit) is half-closed after its last answer and given a moment to finish
 * sending before it is closed, so that the client reads the answer rather than a reset.
 */
final class StaticFileHandler implements ConnectionHandler, HeaderDeadlines.Expired {
    /** Queued answer bytes past which parsing waits for the socket to take them. */
    private static final long DRAIN_THRESHOLD = 512 * 1024;
    /** How long a half-closed connection may take to close its side before it is closed anyway. */
    private static final Duration LINGER = Duration.ofSeconds(2);

    private final ServerConfig config;
    private final LoopResources[] loops;
    private final int readBufferBytes;
    private final BodySender sender;
    private final Answers answers;

    StaticFileHandler(ServerConfig config, int loopCount, int readBufferBytes) {
        this.config = config;
        this.loops = new LoopResources[loopCount];
        this.readBufferBytes = readBufferBytes;
        this.sender = new BodySender(config, this);
        this.answers = new Answers(config, sender, this);
    }

    /** The loop's resources, made on its thread on first use. */
    private LoopResources resources(EventLoop loop) {
        LoopResources r = loops[loop.index()];
        if (r == null) {
            r = new LoopResources(loop.index(), config, readBufferBytes, this);
            loops[loop.index()] = r;
        }
        return r;
    }

    /** Every loop's resources made so far; read after the loops stopped. */
    LoopResources[] allResources() {
        return loops;
    }

    @Override
    public void onOpen(Connection c) {
        LoopResources r = resources(c.loop());
        HttpSession s = r.session();
        s.open(c);
        c.attach(s);
        if (r.log != null) {
            formatPeer(r, s);
        }
        if (r.tls != null) {
            s.tls = r.tlsConnection(c);
            r.heads.start(s); // the header timeout covers the handshake: a stalled one is closed with it
        }
    }

    /**
     * The connection's session, or null (after closing the connection) when it has none: io-core
     * calls every other method only after {@link #onOpen}, but a handler must not fail a loop
     * with a NullPointerException should that promise ever break.
     */
    private static HttpSession session(Connection c) {
        if (c.attachment() instanceof HttpSession s) {
            return s;
        }
        if (c.isOpen()) {
            c.close();
        }
        return null;
    }

    @Override
    public void onData(Connection c, MemorySegment data) {
        HttpSession s = session(c);
        if (s == null) {
            return;
        }
        if (s.done) {
            return; // lingering: whatever the client still sends is dropped
        }
        LoopResources r = resources(c.loop());
        if (s.tls != null) {
            tlsData(r, s, data);
            return;
        }
        plain(r, s, data, data.byteSize());
    }

    /** Request bytes in {@code [0, size)} of {@code data}, straight from the socket or decrypted. */
    private void plain(LoopResources r, HttpSession s, MemorySegment data, long size) {
        if (s.inputLength == 0) {
            consume(r, s, data, size, true);
            return;
        }
        if (s.inputLength + size > s.input.byteSize()) {
            refuse(r, s, HttpRequestParser.HEADERS_TOO_LARGE); // cannot happen while reading pauses in time
            return;
        }
        MemorySegment.copy(data, 0, s.input, s.inputLength, size);
        s.inputLength += (int) size;
        consume(r, s, s.input, s.inputLength, false);
    }

    /**
     * Ciphertext arrived on an HTTPS connection: the handshake moves on, or the records are
     * decrypted and their bytes handled like plain input. Plain HTTP on this port is answered
     * 400 and closed by {@link TlsIo#feed}; a failed handshake sends its alert and closes.
     */
    private void tlsData(LoopResources r, HttpSession s, MemorySegment data) {
        boolean wasEstablished = s.tls.established();
        int state = r.tls.feed(s.connection, s.tls, data, 0, (int) data.byteSize());
        afterHandshakeStep(r, s, wasEstablished, state);
    }

    private void afterHandshakeStep(LoopResources r, HttpSession s, boolean wasEstablished, int state) {
        if (state == TlsIo.FAILED) {
            s.done = true;
            return;
        }
        if (state == TlsIo.HANDSHAKING) {
            return;
        }
        if (!wasEstablished) {
            r.heads.stop(s); // handshake done: the next head gets its own timeout from its first byte
        }
        tlsPull(r, s);
    }

    /**
     * Decrypts and handles records while no answer is in progress. With one in progress the
     * records wait inside OpenSSL and reading pauses (so a client cannot make the server buffer
     * more), and {@link #resume} pulls them when the answer is done.
     */
    private void tlsPull(LoopResources r, HttpSession s) {
        Connection c = s.connection;
        while (!s.done) {
            if (s.phase != HttpSession.IDLE) {
                if (!s.readPaused) {
                    s.readPaused = true;
                    c.pauseReading();
                }
                return;
            }
            int n = r.tls.read(c, s.tls);
            if (n > 0) {
                plain(r, s, r.tls.plaintext(), n);
                continue;
            }
            if (n == TlsIo.CLOSED) {
                onInputClosed(c); // close_notify: the end of the client's requests
            } else if (n == TlsIo.FAILED) {
                s.done = true; // a bad record: TlsIo closed the connection
            }
            return;
        }
    }

    /**
     * Parses and answers the requests in {@code [0, to)} of {@code in} while no answer is in
     * progress, then keeps what is left: copied to the session's buffer when {@code in} is the
     * loop's read buffer ({@code direct}), moved to the buffer's start otherwise.
     */
    private void consume(LoopResources r, HttpSession s, MemorySegment in, long to, boolean direct) {
        s.consuming = true;
        try {
            parseAndAnswer(r, s, in, to, direct);
        } finally {
            s.consuming = false;
        }
    }

    private void parseAndAnswer(LoopResources r, HttpSession s, MemorySegment in, long to, boolean direct) {
        long pos = 0;
        while (pos < to && s.phase == HttpSession.IDLE && !s.done) {
            if (s.bodyToSkip > 0) {
                long n = Math.min(s.bodyToSkip, to - pos);
                pos += n;
                s.bodyToSkip -= n;
                continue;
            }
            long text = HttpRequestParser.skipEmptyLines(in, pos, to);
            if (text == to) {
                if (text > pos) {
                    r.heads.start(s); // empty lines open a head too: trickling CRLFs is no way around the timeout
                }
                pos = text;
                break;
            }
            pos = text;
            long end = HttpRequestParser.findHeadEnd(in, pos, pos + s.scanned, to);
            if (end < 0) {
                int status = r.parser.incompleteStatus(in, pos, to);
                if (status != 0) {
                    refuse(r, s, status);
                } else {
                    s.scanned = (int) (to - pos);
                    r.heads.start(s); // from the first byte of this head, if it is not running already
                }
                break;
            }
            r.heads.stop(s);
            s.scanned = 0;
            long parsed = r.parser.parse(in, pos, end, r.request);
            if (parsed < 0) {
                refuse(r, s, (int) -parsed);
                break;
            }
            pos = end;
            answers.answer(r, s, r.request);
            if (!s.done && s.phase == HttpSession.IDLE && s.connection.pendingOutputBytes() > DRAIN_THRESHOLD) {
                s.phase = HttpSession.DRAINING;
                s.connection.notifyWhenWritable();
            }
        }
        keep(r, s, in, pos, to, direct);
    }

    private void keep(LoopResources r, HttpSession s, MemorySegment in, long pos, long to, boolean direct) {
        if (s.done) {
            return; // onClose or the linger took the buffer back already, or will
        }
        int left = (int) (to - pos);
        if (direct) {
            if (left > 0) {
                if (s.input == null) {
                    s.input = r.buffer();
                }
                MemorySegment.copy(in, pos, s.input, 0, left);
            }
        } else if (left > 0 && pos > 0) {
            MemorySegment.copy(s.input, pos, s.input, 0, left);
        }
        s.inputLength = left;
        if (left == 0 && s.input != null) {
            r.recycle(s.input);
            s.input = null;
        }
        if (left > 0 && s.phase != HttpSession.IDLE && !s.readPaused) {
            s.readPaused = true;
            s.connection.pauseReading();
        }
    }

    /** A request the server cannot parse: answered, then the connection is closed. */
    private void refuse(LoopResources r, HttpSession s, int status) {
        answers.error(r, s, null, status, false);
    }

    /**
     * A head that did not arrive whole within the header timeout: 408, then the connection is
     * closed like after any framing error (FIN after the answer, a short linger, close). Unlike
     * nginx, which closes without a word, the 408 tells a legitimate but slow client why.
     */
    @Override
    public void headerTimedOut(HttpSession s) {
        if (s.tls != null && !s.tls.established() && !s.done) {
            s.tls.fail(TlsFailure.TIMEOUT, "no TLS handshake within the header timeout");
            s.done = true;
            s.connection.abort(); // no HTTP to answer with before the handshake
            return;
        }
        if (!s.done && s.phase == HttpSession.IDLE) {
            refuse(resources(s.connection.loop()), s, 408);
        }
    }

    /**
     * An answer has been handed over completely ({@code keepAlive} as its head said): close
     * the connection, or go on (the caller's parse loop continues by itself).
     */
    void answerSent(LoopResources r, HttpSession s, boolean keepAlive) {
        if (!keepAlive && !s.done) {
            closeAfterOutput(s);
        }
    }

    /** A file answer has been sent to its last byte: close, or go on with waiting input. */
    void answerDone(LoopResources r, HttpSession s) {
        if (s.done) {
            return;
        }
        if (s.closeAfter) {
            closeAfterOutput(s);
            return;
        }
        if (s.consuming) {
            return; // finished inside the parse loop (a file sent at once): the loop goes on by itself
        }
        resume(r, s);
    }

    private void resume(LoopResources r, HttpSession s) {
        if (s.inputLength > 0) {
            consume(r, s, s.input, s.inputLength, false);
        }
        if (s.done || s.phase != HttpSession.IDLE) {
            return;
        }
        if (s.tls != null) {
            tlsPull(r, s); // records that waited inside OpenSSL while the answer went out
            if (s.done || s.phase != HttpSession.IDLE) {
                return;
            }
        }
        if (s.readPaused) {
            s.readPaused = false;
            s.connection.resumeReading();
        }
        if (s.inputClosed) {
            s.done = true;
            s.connection.close();
        }
    }

    @Override
    public void onWritable(Connection c) {
        HttpSession s = session(c);
        if (s == null || s.done) {
            return;
        }
        LoopResources r = resources(c.loop());
        if (s.tls != null && !s.tls.established()) {
            afterHandshakeStep(r, s, false, r.tls.handshake(c, s.tls));
            return;
        }
        if (s.phase == HttpSession.SENDING) {
            sender.pump(r, s); // HTTPS: the next records of a body encrypted here
        } else if (s.phase == HttpSession.DRAINING) {
            s.phase = HttpSession.IDLE;
            resume(r, s);
        }
    }

    /** The transport finished the file region of the answer in progress (see {@link BodySender#fileSent}). */
    @Override
    public void onFileSent(Connection c, int error) {
        HttpSession s = session(c);
        if (s != null) {
            sender.fileSent(resources(c.loop()), s, error);
        }
    }

    @Override
    public void onInputClosed(Connection c) {
        HttpSession s = session(c);
        if (s == null) {
            return;
        }
        s.inputClosed = true;
        if (s.done) {
            c.close(); // the lingering close is complete
            return;
        }
        if (s.phase == HttpSession.IDLE) {
            s.done = true; // anything still buffered is an incomplete request
            c.close();
        }
        // else: the answer in progress finishes, waiting requests are answered, then resume() closes
    }

    @Override
    public void onClose(Connection c, CloseReason reason) {
        if (!(c.attachment() instanceof HttpSession s) || s.connection != c) {
            return; // no onOpen ran for it (its registration failed): nothing was taken for it
        }
        LoopResources r = resources(c.loop());
        s.done = true;
        r.heads.stop(s);
        BodySender.release(s);
        if (s.tls != null) {
            if (!s.tls.established() && s.tls.failure() == null) {
                s.tls.fail(TlsFailure.PEER_CLOSED, "closed during the handshake: " + reason);
            }
            r.recycle(s.tls);
            s.tls = null;
        }
        if (s.input != null) {
            r.recycle(s.input);
            s.input = null;
        }
        s.inputLength = 0;
        r.recycle(s);
    }

    /** Closes at once, for a peer gone or a transfer that cannot go on. */
    void abort(HttpSession s) {
        if (!s.done) {
            s.done = true;
            s.connection.abort();
        }
    }

    /**
     * Sends FIN once io-core's queue is empty, then closes when the client closes its side
     * too or after {@link #LINGER}: closing with unread input would make the kernel answer
     * with a reset, which can destroy the answer before the client reads it.
     */
    private void closeAfterOutput(HttpSession s) {
        s.done = true;
        Connection c = s.connection;
        if (s.tls != null && s.tls.established() && (!s.tls.kernelMode() || c.pendingOutputBytes() == 0)) {
            LoopResources r = resources(c.loop());
            // The polite end of a TLS session, before the FIN. In kernel mode OpenSSL writes it to
            // the socket itself, so only when nothing queued would be overtaken.
            s.tls.closeNotify();
            r.tls.flush(c, s.tls);
            if (!c.isOpen()) {
                return;
            }
        }
        if (s.inputClosed) {
            c.close();
            return;
        }
        c.shutdownOutput();
        if (!c.isOpen()) {
            return;
        }
        try {
            c.loop().schedule(LINGER, () -> {
                if (c.isOpen()) {
                    c.close();
                }
            });
        } catch (RejectedExecutionException e) {
            c.close(); // no timer to spare: close now rather than leave the connection to linger unbounded
        }
    }

    /** The peer's address as text, for the access log (IPv4 dotted, IPv6 as eight groups). */
    private static void formatPeer(LoopResources r, HttpSession s) {
        MemorySegment a = r.peerAddress;
        if (!s.connection.peerAddress(a)) {
            s.peerLength = 0; // no descriptor to ask (io_uring direct descriptors), or the peer is gone
            return;
        }
        MemorySegment out = MemorySegment.ofArray(s.peer);
        long n = 0;
        if (a.get(JAVA_SHORT_UNALIGNED, SockaddrIn.SIN_FAMILY) == AF_INET) {
            for (int i = 0; i < 4; i++) {
                if (i > 0) {
                    out.set(JAVA_BYTE, n++, (byte) '.');
                }
                n = Ascii.putDecimal(out, n, a.get(JAVA_BYTE, SockaddrIn.SIN_ADDR + i) & 0xFF);
            }
        } else {
            for (int i = 0; i < 8; i++) {
                if (i > 0) {
                    out.set(JAVA_BYTE, n++, (byte) ':');
                }
                int group = (a.get(JAVA_BYTE, SockaddrIn6.SIN6_ADDR + 2L * i) & 0xFF) << 8
                        | a.get(JAVA_BYTE, SockaddrIn6.SIN6_ADDR + 2L * i + 1) & 0xFF;
                n = Ascii.putHex(out, n, group);
            }
        }
        s.peerLength = (int) n;
    }
}
