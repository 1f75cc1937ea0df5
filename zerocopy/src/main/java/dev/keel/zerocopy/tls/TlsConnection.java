package dev.keel.zerocopy.tls;

import dev.keel.ffm.OpenSsl;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.OpenSslConstants.BIO_CTRL_GET_KTLS_SEND;
import static dev.keel.ffm.gen.OpenSslConstants.BIO_CTRL_PENDING;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_ERROR_WANT_READ;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_ERROR_WANT_WRITE;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_ERROR_ZERO_RETURN;
import static dev.keel.ffm.gen.OpenSslConstants.TLS1_3_VERSION;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * One connection's TLS engine: an OpenSSL {@code SSL} between two memory BIOs. The loop's
 * reads go in with {@link #receive} (ciphertext), come out of {@link #read} as plaintext;
 * plaintext goes in with {@link #write} and the records to send come out of
 * {@link #takeOutput}. Nothing here touches the socket, so the engine runs the same over epoll
 * and io_uring, and a stalled peer stalls nothing but itself. Every buffer is the caller's
 * off-heap memory, passed by address: no heap allocation per record.
 *
 * <p>Loop-confined and reusable: {@link #open} starts a connection, {@link #free} ends it
 * (freeing the {@code SSL} and its BIOs); the object can then be pooled.
 */
public final class TlsConnection {
    /** {@link #handshake}: finished. */
    public static final int ESTABLISHED = 1;
    /** {@link #handshake}: waiting for the peer's next flight; {@link #read}: no whole record yet. */
    public static final int MORE = 0;
    /** The connection cannot go on: see {@link #failure()}. */
    public static final int FAILED = -1;
    /** {@link #read}: the peer sent close_notify. */
    public static final int CLOSED = -2;
    /** {@link #handshake}: the socket is full; go on when it is writable (socket writes only). */
    public static final int WRITE_BLOCKED = 2;
    /** The content type of a TLS handshake record: every TLS connection's first byte. */
    private static final byte HANDSHAKE_RECORD = 22;

    private final TlsContext context;
    private MemorySegment ssl = MemorySegment.NULL;
    private MemorySegment readBio = MemorySegment.NULL;
    private MemorySegment writeBio = MemorySegment.NULL;
    private boolean established;
    private boolean receivedAny;
    /** OpenSSL writes to the socket itself (a kernel TLS attempt), not to a memory BIO. */
    private boolean socketWrites;
    /** The kernel encrypts what is written to the socket (kTLS transmit is on). */
    private boolean kernelMode;
    private TlsFailure failure;
    private String detail;

    /** An engine for connections on {@code context}'s certificate; {@link #open} starts one. */
    public TlsConnection(TlsContext context) {
        this.context = context;
    }

    /** Starts a server-side connection on the context's current certificate. */
    public void open() {
        if (ssl.address() != 0) {
            throw new IllegalStateException("TLS connection already open");
        }
        start(MemorySegment.NULL, -1);
    }

    /**
     * Starts a server-side connection that lets OpenSSL write to socket {@code fd} itself (reads
     * still come through {@link #receive}): with SSL_OP_ENABLE_KTLS, OpenSSL then hands the
     * transmit keys to the kernel after the handshake when the kernel takes them. After
     * {@link #handshake} says {@link #ESTABLISHED}, call {@link #settleKernelTls()}.
     */
    public void openWithSocketWrites(int fd) {
        if (ssl.address() != 0) {
            throw new IllegalStateException("TLS connection already open");
        }
        start(OpenSsl.newSocketBio(fd), fd);
    }

    private void start(MemorySegment socketBio, int fd) {
        established = false;
        receivedAny = false;
        failure = null;
        detail = null;
        kernelMode = false;
        socketWrites = fd >= 0;
        ssl = context.newSsl();
        readBio = OpenSsl.newMemoryBio();
        writeBio = socketWrites ? socketBio : OpenSsl.newMemoryBio();
        OpenSsl.setBio(ssl, readBio, writeBio); // the SSL owns both from here on
    }

    /**
     * After the handshake of a connection opened {@link #openWithSocketWrites with socket writes}:
     * asks OpenSSL whether the kernel took the transmit side ({@code BIO_get_ktls_send}). If it
     * did, the connection is in kernel mode: everything written to the socket, by write(2) or
     * sendfile(2) (what SSL_sendfile does on such a socket), leaves encrypted by the kernel, so
     * the caller writes plaintext and file regions through its transport. If not (no
     * {@code tls} module, a cipher the kernel lacks), the write BIO is replaced by a memory BIO
     * and the connection encrypts in user space like any other. Returns whether the kernel took it.
     */
    public boolean settleKernelTls() {
        if (!socketWrites) {
            return kernelMode;
        }
        socketWrites = false;
        if (kernelSend()) {
            kernelMode = true;
        } else {
            writeBio = OpenSsl.newMemoryBio();
            OpenSsl.setWriteBio(ssl, writeBio); // frees the socket BIO (not the socket: BIO_NOCLOSE)
        }
        context.stats().kernelTls(kernelMode);
        return kernelMode;
    }

    /** Whether the kernel encrypts this connection's output (kTLS transmit on). */
    public boolean kernelMode() {
        return kernelMode;
    }

    /** Whether OpenSSL still writes to the socket itself (a kernel TLS attempt before {@link #settleKernelTls}). */
    public boolean socketWrites() {
        return socketWrites;
    }

    /** Whether {@link #open} ran and {@link #free} did not yet. */
    public boolean isOpen() {
        return ssl.address() != 0;
    }

    /** Whether the handshake is done. */
    public boolean established() {
        return established;
    }

    /**
     * Hands {@code length} bytes from the peer at {@code offset} of {@code cipher} to OpenSSL.
     * Returns false when this cannot be TLS: the connection's first byte is not a handshake
     * record (plain HTTP starts with a letter); {@link #failure()} is then {@link TlsFailure#NOT_TLS}.
     */
    public boolean receive(MemorySegment cipher, long offset, int length) {
        if (length <= 0) {
            return true;
        }
        if (!receivedAny) {
            receivedAny = true;
            if (cipher.get(JAVA_BYTE, offset) != HANDSHAKE_RECORD) {
                fail(TlsFailure.NOT_TLS, "first byte 0x" + Integer.toHexString(cipher.get(JAVA_BYTE, offset) & 0xFF));
                return false;
            }
        }
        int n = OpenSsl.bioWrite(readBio, cipher, offset, length);
        if (n != length) {
            fail(TlsFailure.RECORD, "BIO_write took " + n + " of " + length + " bytes");
            return false;
        }
        return true;
    }

    /** Whether any byte came from the peer yet. */
    public boolean receivedAny() {
        return receivedAny;
    }

    /**
     * One step of the server handshake with what has been received: {@link #ESTABLISHED},
     * {@link #MORE} (send {@link #takeOutput} and wait for the peer) or {@link #FAILED}.
     * Output to send may be waiting in every case (a failed handshake leaves its alert).
     */
    public int handshake() {
        if (established) {
            return ESTABLISHED;
        }
        int r = OpenSsl.doHandshake(ssl);
        if (r == 1) {
            established = true;
            context.stats().completed(OpenSsl.sessionReused(ssl), OpenSsl.protocolVersion(ssl) == TLS1_3_VERSION);
            return ESTABLISHED;
        }
        int error = OpenSsl.error(ssl, r);
        if (error == SSL_ERROR_WANT_WRITE && socketWrites) {
            return WRITE_BLOCKED;
        }
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            return MORE;
        }
        fail(TlsFailure.HANDSHAKE, OpenSsl.drainErrors());
        return FAILED;
    }

    /**
     * Decrypts into {@code length} bytes at {@code offset} of {@code into}: bytes decrypted
     * (positive), {@link #MORE} when no whole record is there yet, {@link #CLOSED} on close_notify,
     * {@link #FAILED} on a bad record.
     */
    public int read(MemorySegment into, long offset, int length) {
        int r = OpenSsl.read(ssl, into, offset, length);
        if (r > 0) {
            return r;
        }
        int error = OpenSsl.error(ssl, r);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            return MORE;
        }
        if (error == SSL_ERROR_ZERO_RETURN) {
            return CLOSED;
        }
        fail(TlsFailure.RECORD, OpenSsl.drainErrors());
        return FAILED;
    }

    /** Plaintext bytes decrypted and held inside OpenSSL, ready for {@link #read} without more input. */
    public int buffered() {
        return OpenSsl.pending(ssl);
    }

    /**
     * Encrypts {@code length} bytes at {@code offset} of {@code plain} into records waiting in
     * {@link #takeOutput}: returns {@code length}, or {@link #FAILED}. A memory BIO takes
     * everything, so this never returns a partial count; callers bound {@code length} to keep
     * the waiting records small.
     */
    public int write(MemorySegment plain, long offset, int length) {
        if (length == 0) {
            return 0;
        }
        int r = OpenSsl.write(ssl, plain, offset, length);
        if (r == length) {
            return r;
        }
        fail(TlsFailure.RECORD, OpenSsl.drainErrors());
        return FAILED;
    }

    /** Bytes of records waiting to be sent. */
    public int pendingOutput() {
        if (socketWrites || kernelMode) {
            return 0; // OpenSSL wrote to the socket itself
        }
        return (int) OpenSsl.bioControl(writeBio, BIO_CTRL_PENDING, 0);
    }

    /** Moves up to {@code length} bytes of waiting records into {@code into} at {@code offset}; returns how many. */
    public int takeOutput(MemorySegment into, long offset, int length) {
        if (socketWrites || kernelMode) {
            return 0; // a socket BIO's read would read the socket: nothing waits here
        }
        int n = OpenSsl.bioRead(writeBio, into, offset, length);
        return Math.max(0, n);
    }

    /** Queues close_notify (then {@link #takeOutput} it): the polite end of a TLS connection. */
    public void closeNotify() {
        if (established) {
            int ignored = OpenSsl.shutdown(ssl);
            OpenSsl.clearErrors();
        }
    }

    /**
     * Whether the write side is kernel TLS: false for a memory BIO, always, so a connection
     * encrypts in user space; the answer comes from OpenSSL ({@code BIO_get_ktls_send}) so that
     * a socket BIO with kTLS switched on says true.
     */
    public boolean kernelSend() {
        return OpenSsl.bioControl(OpenSsl.writeBio(ssl), BIO_CTRL_GET_KTLS_SEND, 0) > 0;
    }

    /** Frees the {@code SSL} and its BIOs; the object may be opened again. */
    public void free() {
        if (ssl.address() != 0) {
            OpenSsl.freeSsl(ssl);
            ssl = MemorySegment.NULL;
            readBio = MemorySegment.NULL;
            writeBio = MemorySegment.NULL;
            socketWrites = false;
            kernelMode = false;
        }
    }

    /** Records (and counts) why the connection failed, the first reason only. */
    public void fail(TlsFailure reason, String why) {
        if (failure == null) {
            failure = reason;
            detail = why;
            context.stats().failed(reason);
        }
    }

    /** Why the connection failed, or null. */
    public TlsFailure failure() {
        return failure;
    }

    /** OpenSSL's words for the failure, or null. */
    public String failureDetail() {
        return detail;
    }

    /** The negotiated version (TLS1_2_VERSION, TLS1_3_VERSION). */
    public int protocolVersion() {
        return OpenSsl.protocolVersion(ssl);
    }

    /** Whether the handshake resumed a session (a ticket, or a TLS 1.2 session id). */
    public boolean sessionReused() {
        return OpenSsl.sessionReused(ssl);
    }

    /** The ALPN protocol chosen, or null (allocates: for tests and logs). */
    public String alpn() {
        return OpenSsl.selectedAlpn(ssl);
    }
}
