package dev.keel.ffm;

import dev.keel.ffm.gen.OpenSslConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * OpenSSL 3's libssl and libcrypto, looked up by name ({@code libssl.so.3}, {@code libcrypto.so.3},
 * Debian's {@code libssl3}) when first used, with only the functions a TLS server needs. No JNI
 * and no second TLS stack: keel's TLS is OpenSSL's.
 *
 * <pre>{@code
 * SSL_CTX *SSL_CTX_new(const SSL_METHOD *m);     SSL *SSL_new(SSL_CTX *ctx);
 * int SSL_do_handshake(SSL *s);                   int SSL_get_error(const SSL *s, int ret);
 * int SSL_read(SSL *s, void *buf, int n);         int SSL_write(SSL *s, const void *buf, int n);
 * (buffers are passed as raw addresses of native segments, bounds checked by keel)
 * BIO *BIO_new(const BIO_METHOD *m);              long BIO_ctrl(BIO *b, int cmd, long larg, void *parg);
 * ossl_ssize_t SSL_sendfile(SSL *s, int fd, off_t offset, size_t size, int flags);
 * }</pre>
 *
 * <p>Macros such as {@code SSL_CTX_set_min_proto_version} or {@code BIO_get_ktls_send} have no
 * symbol: they are called as the {@code SSL_CTX_ctrl}/{@code BIO_ctrl} they expand to, with the
 * control codes generated from the headers ({@link OpenSslConstants}). Pointers ({@code SSL_CTX *},
 * {@code SSL *}, {@code BIO *}) are plain {@link MemorySegment} addresses the caller frees with
 * the matching {@code free} method.
 *
 * <p>When the library is absent every method throws {@link IllegalStateException} with
 * {@link #unavailableReason()}; call that first to report it.
 */
public final class OpenSsl {
    /** The libssl the runtime loader is asked for by name: the ABI of OpenSSL 3. */
    public static final String LIBSSL = "libssl.so.3";
    /** The libcrypto the runtime loader is asked for by name: the ABI of OpenSSL 3. */
    public static final String LIBCRYPTO = "libcrypto.so.3";

    private OpenSsl() {
    }

    /** Why OpenSSL cannot be used here (library missing, too old), or null when it can. */
    public static String unavailableReason() {
        return OpenSslLib.FAILURE;
    }

    /** The library's version text, e.g. {@code OpenSSL 3.0.19 27 Jan 2026}. */
    public static String version() {
        OpenSslLib.require();
        try {
            MemorySegment s = (MemorySegment) OpenSslLib.OPENSSL_VERSION.invokeExact(0);
            return s.reinterpret(256).getString(0, StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    // ---- SSL_CTX

    /** {@code SSL_CTX_new(TLS_server_method())}. */
    public static MemorySegment newServerContext() {
        OpenSslLib.require();
        try {
            MemorySegment method = (MemorySegment) OpenSslLib.TLS_SERVER_METHOD.invokeExact();
            MemorySegment ctx = (MemorySegment) OpenSslLib.SSL_CTX_NEW.invokeExact(method);
            if (ctx.address() == 0) {
                throw failure("SSL_CTX_new");
            }
            return ctx;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_free}: drops one reference; SSLs made from the context hold their own. */
    public static void freeContext(MemorySegment ctx) {
        try {
            OpenSslLib.SSL_CTX_FREE.invokeExact(ctx);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Loads a PEM certificate chain (leaf first) into {@code ctx}. */
    public static void useCertificateChainFile(MemorySegment ctx, String path) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) OpenSslLib.USE_CHAIN_FILE.invokeExact(ctx, a.allocateFrom(path)) != 1) {
                throw failure("SSL_CTX_use_certificate_chain_file(" + path + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Loads a PEM private key into {@code ctx} and checks that it matches the certificate. */
    public static void usePrivateKeyFile(MemorySegment ctx, String path) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) OpenSslLib.USE_KEY_FILE.invokeExact(ctx, a.allocateFrom(path), OpenSslConstants.SSL_FILETYPE_PEM) != 1) {
                throw failure("SSL_CTX_use_PrivateKey_file(" + path + ")");
            }
            if ((int) OpenSslLib.CHECK_KEY.invokeExact(ctx) != 1) {
                throw failure("SSL_CTX_check_private_key(" + path + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_set_options}: adds {@code options} (SSL_OP_*), returns the options now set. */
    public static long setOptions(MemorySegment ctx, long options) {
        try {
            return (long) OpenSslLib.SET_OPTIONS.invokeExact(ctx, options);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_ctrl}: what the {@code SSL_CTX_set_*} macros expand to. */
    public static long contextControl(MemorySegment ctx, int command, long argument) {
        try {
            return (long) OpenSslLib.SSL_CTX_CTRL.invokeExact(ctx, command, argument, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_set_num_tickets}: session tickets sent after a TLS 1.3 handshake. */
    public static void setTicketCount(MemorySegment ctx, long count) {
        try {
            if ((int) OpenSslLib.SET_NUM_TICKETS.invokeExact(ctx, count) != 1) {
                throw failure("SSL_CTX_set_num_tickets");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_set_session_id_context}: names the context sessions may be resumed in. */
    public static void setSessionIdContext(MemorySegment ctx, byte[] id) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(id.length);
            MemorySegment.copy(id, 0, s, JAVA_BYTE, 0, id.length);
            if ((int) OpenSslLib.SET_SID_CTX.invokeExact(ctx, s, id.length) != 1) {
                throw failure("SSL_CTX_set_session_id_context");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Installs ALPN selection on {@code ctx}: the first of {@code protocols} (the server's
     * order) that the client offers is chosen; a client that offers none of them is refused
     * with the fatal {@code no_application_protocol} alert (RFC 7301, 3.2). A client that sends
     * no ALPN extension is not asked. The callback is one upcall stub made once per process;
     * {@code protocols} is copied into memory that lives as long as the process.
     */
    public static void selectAlpn(MemorySegment ctx, String... protocols) {
        MemorySegment prefs = OpenSslAlpn.encode(protocols);
        try {
            OpenSslLib.SET_ALPN_SELECT_CB.invokeExact(ctx, OpenSslAlpn.STUB, prefs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- SSL

    /** {@code SSL_new(ctx)}; in server (accept) state. */
    public static MemorySegment newSsl(MemorySegment ctx) {
        try {
            MemorySegment ssl = (MemorySegment) OpenSslLib.SSL_NEW.invokeExact(ctx);
            if (ssl.address() == 0) {
                throw failure("SSL_new");
            }
            OpenSslLib.SSL_SET_ACCEPT_STATE.invokeExact(ssl);
            return ssl;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_free}: frees the SSL and the BIOs given to it. */
    public static void freeSsl(MemorySegment ssl) {
        try {
            OpenSslLib.SSL_FREE.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_set_bio}: the SSL owns both BIOs from now on. */
    public static void setBio(MemorySegment ssl, MemorySegment readBio, MemorySegment writeBio) {
        try {
            OpenSslLib.SSL_SET_BIO.invokeExact(ssl, readBio, writeBio);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code SSL_set0_wbio}: replaces the BIO the SSL writes to (the old one is freed), for a
     * connection that tried kernel TLS on a socket BIO and falls back to a memory BIO.
     */
    public static void setWriteBio(MemorySegment ssl, MemorySegment writeBio) {
        try {
            OpenSslLib.SSL_SET0_WBIO.invokeExact(ssl, writeBio);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code BIO_new_socket(fd, BIO_NOCLOSE)}: a BIO writing to the socket {@code fd} itself,
     * which OpenSSL can switch to kernel TLS after the handshake; the descriptor stays the caller's.
     */
    public static MemorySegment newSocketBio(int fd) {
        OpenSslLib.require();
        try {
            MemorySegment bio = (MemorySegment) OpenSslLib.BIO_NEW_SOCKET.invokeExact(fd, OpenSslConstants.BIO_NOCLOSE);
            if (bio.address() == 0) {
                throw failure("BIO_new_socket");
            }
            return bio;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_set_fd}: a socket BIO on {@code fd}, the way kernel TLS can be switched on. */
    public static void setFd(MemorySegment ssl, int fd) {
        try {
            if ((int) OpenSslLib.SSL_SET_FD.invokeExact(ssl, fd) != 1) {
                throw failure("SSL_set_fd");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_do_handshake}: 1 done, else pass the result to {@link #error}. */
    public static int doHandshake(MemorySegment ssl) {
        try {
            return (int) OpenSslLib.SSL_DO_HANDSHAKE.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_read}: plaintext bytes read (positive), else pass the result to {@link #error}. */
    public static int read(MemorySegment ssl, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) OpenSslLib.SSL_READ.invokeExact(ssl, at, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_write}: plaintext bytes taken (positive), else pass the result to {@link #error}. */
    public static int write(MemorySegment ssl, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) OpenSslLib.SSL_WRITE.invokeExact(ssl, at, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code SSL_sendfile}: with kernel TLS on for sending, {@code size} bytes of {@code fd} from
     * {@code offset} go out encrypted by the kernel, without passing through user space.
     * Returns bytes sent, or a negative result for {@link #error}.
     */
    public static long sendfile(MemorySegment ssl, int fd, long offset, long size) {
        try {
            return (long) OpenSslLib.SSL_SENDFILE.invokeExact(ssl, fd, offset, size, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_get_error}: an {@code SSL_ERROR_*} code for the result of the last call. */
    public static int error(MemorySegment ssl, int result) {
        try {
            return (int) OpenSslLib.SSL_GET_ERROR.invokeExact(ssl, result);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_shutdown}: queues close_notify. */
    public static int shutdown(MemorySegment ssl) {
        try {
            return (int) OpenSslLib.SSL_SHUTDOWN.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_version}: TLS1_2_VERSION, TLS1_3_VERSION... */
    public static int protocolVersion(MemorySegment ssl) {
        try {
            return (int) OpenSslLib.SSL_VERSION.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_session_reused}: whether the handshake resumed a session. */
    public static boolean sessionReused(MemorySegment ssl) {
        try {
            return (int) OpenSslLib.SSL_SESSION_REUSED.invokeExact(ssl) == 1;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_pending}: decrypted bytes buffered inside the SSL, ready for {@link #read}. */
    public static int pending(MemorySegment ssl) {
        try {
            return (int) OpenSslLib.SSL_PENDING.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_get_wbio}: the BIO the SSL writes records to. */
    public static MemorySegment writeBio(MemorySegment ssl) {
        try {
            return (MemorySegment) OpenSslLib.SSL_GET_WBIO.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The protocol ALPN chose ({@code SSL_get0_alpn_selected}), or null when none was. Allocates:
     * for tests and logs, not the data path.
     */
    public static String selectedAlpn(MemorySegment ssl) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(ADDRESS);
            MemorySegment length = a.allocate(JAVA_INT);
            OpenSslLib.SSL_GET0_ALPN.invokeExact(ssl, data, length);
            int n = length.get(JAVA_INT, 0);
            if (n == 0) {
                return null;
            }
            return new String(data.get(ADDRESS, 0).reinterpret(n).toArray(JAVA_BYTE), StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- BIO

    /** {@code BIO_new(BIO_s_mem())}: a growable memory BIO; empty reads are retryable. */
    public static MemorySegment newMemoryBio() {
        OpenSslLib.require();
        try {
            MemorySegment bio = (MemorySegment) OpenSslLib.BIO_NEW.invokeExact((MemorySegment) OpenSslLib.BIO_S_MEM.invokeExact());
            if (bio.address() == 0) {
                throw failure("BIO_new");
            }
            return bio;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code BIO_free}: for a BIO not handed to an SSL (which frees its own). */
    public static void freeBio(MemorySegment bio) {
        try {
            int ignored = (int) OpenSslLib.BIO_FREE.invokeExact(bio);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code BIO_read}: bytes taken out of the BIO (positive), or zero or less when it is empty. */
    public static int bioRead(MemorySegment bio, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) OpenSslLib.BIO_READ.invokeExact(bio, at, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code BIO_write}: bytes put into the BIO; a memory BIO takes them all. */
    public static int bioWrite(MemorySegment bio, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) OpenSslLib.BIO_WRITE.invokeExact(bio, at, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The native address of {@code length} bytes at {@code offset} of {@code buffer}, bounds
     * checked. The data calls take raw addresses so that a part of a buffer is passed without
     * making a slice object per record.
     */
    private static long address(MemorySegment buffer, long offset, int length) {
        if (!buffer.isNative()) {
            throw new IllegalArgumentException("OpenSSL reads and writes native memory only");
        }
        java.util.Objects.checkFromIndexSize(offset, length, buffer.byteSize());
        return buffer.address() + offset;
    }

    /** {@code BIO_ctrl}: what {@code BIO_pending}, {@code BIO_get_ktls_send}... expand to. */
    public static long bioControl(MemorySegment bio, int command, long argument) {
        try {
            return (long) OpenSslLib.BIO_CTRL.invokeExact(bio, command, argument, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- errors

    /** Empties this thread's error queue ({@code ERR_clear_error}): before a call whose failure will be read. */
    public static void clearErrors() {
        try {
            OpenSslLib.ERR_CLEAR_ERROR.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The reasons in this thread's error queue, joined by "; " and removed from it ("no reason queued" when empty). */
    public static String drainErrors() {
        StringBuilder sb = new StringBuilder();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment text = a.allocate(256);
            for (int i = 0; i < 16; i++) {
                long code = (long) OpenSslLib.ERR_GET_ERROR.invokeExact();
                if (code == 0) {
                    break;
                }
                OpenSslLib.ERR_ERROR_STRING_N.invokeExact(code, text, 256L);
                if (!sb.isEmpty()) {
                    sb.append("; ");
                }
                sb.append(text.getString(0, StandardCharsets.US_ASCII));
            }
            OpenSslLib.ERR_CLEAR_ERROR.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return sb.isEmpty() ? "no reason queued" : sb.toString();
    }

    private static OpenSslException failure(String call) {
        return new OpenSslException(call, drainErrors());
    }

    private static RuntimeException rethrow(Throwable t) {
        return Downcalls.rethrow(t);
    }
}
