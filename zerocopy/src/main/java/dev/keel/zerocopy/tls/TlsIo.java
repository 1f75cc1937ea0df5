package dev.keel.zerocopy.tls;

import dev.keel.io.Connection;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * One loop's bridge between io-core connections and their {@link TlsConnection}s: feeds what a
 * connection received, drives the handshake, decrypts into the loop's plaintext buffer, and
 * puts encrypted records on the connection with {@link Connection#write} (which sends at once
 * or queues in io-core's buffers, preserving order).
 *
 * <p>Buffers are off-heap and the loop's ({@link #PLAINTEXT_BYTES} of plaintext, one TLS record's
 * worth, and {@link #CIPHERTEXT_BYTES} for records on their way out); a record of {@code n}
 * bytes leaves through a slice of the cipher buffer made once per length and kept, so after
 * warm-up no record allocates. Loop-confined.
 */
public final class TlsIo implements AutoCloseable {
    /** The largest plaintext of one TLS record (RFC 8446, 5.1). */
    public static final int PLAINTEXT_BYTES = 16 * 1024;
    /** Cipher bytes moved from OpenSSL to the connection per {@link Connection#write}. */
    public static final int CIPHERTEXT_BYTES = 32 * 1024;
    /** What plain HTTP spoken to the TLS port is answered, as nginx does, before the close. */
    private static final byte[] PLAIN_HTTP_ANSWER = ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
            + "Content-Length: 48\r\nConnection: close\r\n\r\n"
            + "The plain HTTP request was sent to an HTTPS port\n").getBytes(StandardCharsets.US_ASCII);

    /** {@link #feed}: the handshake is done; plaintext may be ready for {@link #read}. */
    public static final int READY = 1;
    /** {@link #feed}: the handshake goes on. */
    public static final int HANDSHAKING = 0;
    /** {@link #feed}, {@link #read}: the connection failed and is being closed (reason counted). */
    public static final int FAILED = -1;
    /** {@link #read}: the peer ended the TLS session (close_notify answered). */
    public static final int CLOSED = -2;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment plain;
    private final MemorySegment cipher;
    private final MemorySegment[] cipherSlices = new MemorySegment[CIPHERTEXT_BYTES + 1];
    private final MemorySegment plainHttpAnswer;

    /** A loop's buffers, allocated off-heap now and freed by {@link #close()}. */
    public TlsIo() {
        plain = arena.allocate(PLAINTEXT_BYTES, 64);
        cipher = arena.allocate(CIPHERTEXT_BYTES, 64);
        plainHttpAnswer = arena.allocate(PLAIN_HTTP_ANSWER.length);
        MemorySegment.copy(MemorySegment.ofArray(PLAIN_HTTP_ANSWER), 0, plainHttpAnswer, 0, PLAIN_HTTP_ANSWER.length);
    }

    /** The plaintext buffer {@link #read} fills; valid until the next call on this loop's TLS. */
    public MemorySegment plaintext() {
        return plain;
    }

    /**
     * Takes ciphertext the connection received: moves the handshake on (sending its flights)
     * or leaves records for {@link #read}. A client whose first bytes are not TLS is answered
     * 400 in plain text and closed; a failed handshake sends its alert and closes.
     */
    public int feed(Connection c, TlsConnection t, MemorySegment data, long offset, int length) {
        if (!t.receive(data, offset, length)) {
            if (t.failure() == TlsFailure.NOT_TLS) {
                c.write(plainHttpAnswer);
            }
            if (c.isOpen()) {
                c.close();
            }
            return FAILED;
        }
        if (t.established()) {
            return READY;
        }
        return handshake(c, t);
    }

    /**
     * Moves the handshake on with what was received (also after {@link TlsConnection#WRITE_BLOCKED},
     * when the socket can take more): {@link #READY}, {@link #HANDSHAKING} or {@link #FAILED}. A
     * connection trying kernel TLS settles it when the handshake is done.
     */
    public int handshake(Connection c, TlsConnection t) {
        int h = t.handshake();
        flush(c, t);
        if (h == TlsConnection.FAILED) {
            if (c.isOpen()) {
                c.close(); // after the alert
            }
            return FAILED;
        }
        if (h == TlsConnection.WRITE_BLOCKED) {
            c.notifyWhenWritable(); // OpenSSL writes to the socket itself: go on when it has room
            return HANDSHAKING;
        }
        if (h == TlsConnection.ESTABLISHED && c.isOpen()) {
            t.settleKernelTls();
            return READY;
        }
        return HANDSHAKING;
    }

    /**
     * Decrypts what is waiting into {@link #plaintext()}: bytes (positive), 0 when a whole record
     * has not arrived, {@link #CLOSED} or {@link #FAILED}. Call until it returns 0 or less.
     */
    public int read(Connection c, TlsConnection t) {
        int n = t.read(plain, 0, PLAINTEXT_BYTES);
        if (n > 0) {
            return n;
        }
        if (n == TlsConnection.CLOSED) {
            t.closeNotify();
            flush(c, t);
            return CLOSED;
        }
        flush(c, t); // a TLS 1.3 key update or ticket request may want an answer
        if (n == TlsConnection.FAILED) {
            if (c.isOpen()) {
                c.abort();
            }
            return FAILED;
        }
        return 0;
    }

    /**
     * Encrypts {@code length} bytes at {@code offset} of {@code data} and queues the records on
     * the connection, a record's worth at a time. False when the connection failed or closed.
     */
    public boolean write(Connection c, TlsConnection t, MemorySegment data, long offset, long length) {
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(PLAINTEXT_BYTES, length - done);
            if (t.write(data, offset + done, n) < 0) {
                if (c.isOpen()) {
                    c.abort();
                }
                return false;
            }
            done += n;
            if (!flush(c, t)) {
                return false;
            }
        }
        return true;
    }

    /** Sends close_notify, then closes after pending output. */
    public void close(Connection c, TlsConnection t) {
        if (t.isOpen() && c.isOpen()) {
            t.closeNotify();
            flush(c, t);
        }
        if (c.isOpen()) {
            c.close();
        }
    }

    /** Moves the records OpenSSL produced onto the connection; false when it closed meanwhile. */
    public boolean flush(Connection c, TlsConnection t) {
        int n;
        while (c.isOpen() && (n = t.takeOutput(cipher, 0, CIPHERTEXT_BYTES)) > 0) {
            c.write(cipherSlice(n));
        }
        return c.isOpen();
    }

    private MemorySegment cipherSlice(int n) {
        MemorySegment s = cipherSlices[n];
        if (s == null) {
            s = cipher.asSlice(0, n);
            cipherSlices[n] = s;
        }
        return s;
    }

    /** Frees the buffers; after the loop stopped. */
    @Override
    public void close() {
        arena.close();
    }
}
