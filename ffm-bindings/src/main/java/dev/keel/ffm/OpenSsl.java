package dev.keel.ffm;

import dev.keel.ffm.gen.OpenSslConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
    /** Names the runtime loader is asked for: the ABI of OpenSSL 3. */
    public static final String LIBSSL = "libssl.so.3";
    public static final String LIBCRYPTO = "libcrypto.so.3";

    private OpenSsl() {
    }

    /** Why OpenSSL cannot be used here (library missing, too old), or null when it can. */
    public static String unavailableReason() {
        return Lib.FAILURE;
    }

    /** The library's version text, e.g. {@code OpenSSL 3.0.19 27 Jan 2026}. */
    public static String version() {
        Lib.require();
        try {
            MemorySegment s = (MemorySegment) Lib.OPENSSL_VERSION.invokeExact(0);
            return s.reinterpret(256).getString(0, StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    // ---- SSL_CTX

    /** {@code SSL_CTX_new(TLS_server_method())}. */
    public static MemorySegment newServerContext() {
        Lib.require();
        try {
            MemorySegment method = (MemorySegment) Lib.TLS_SERVER_METHOD.invokeExact();
            MemorySegment ctx = (MemorySegment) Lib.SSL_CTX_NEW.invokeExact(method);
            if (ctx.address() == 0) {
                throw failure("SSL_CTX_new");
            }
            return ctx;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void freeContext(MemorySegment ctx) {
        try {
            Lib.SSL_CTX_FREE.invokeExact(ctx);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Loads a PEM certificate chain (leaf first) into {@code ctx}. */
    public static void useCertificateChainFile(MemorySegment ctx, String path) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) Lib.USE_CHAIN_FILE.invokeExact(ctx, a.allocateFrom(path)) != 1) {
                throw failure("SSL_CTX_use_certificate_chain_file(" + path + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Loads a PEM private key into {@code ctx} and checks that it matches the certificate. */
    public static void usePrivateKeyFile(MemorySegment ctx, String path) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) Lib.USE_KEY_FILE.invokeExact(ctx, a.allocateFrom(path), OpenSslConstants.SSL_FILETYPE_PEM) != 1) {
                throw failure("SSL_CTX_use_PrivateKey_file(" + path + ")");
            }
            if ((int) Lib.CHECK_KEY.invokeExact(ctx) != 1) {
                throw failure("SSL_CTX_check_private_key(" + path + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_set_options}: adds {@code options} (SSL_OP_*), returns the options now set. */
    public static long setOptions(MemorySegment ctx, long options) {
        try {
            return (long) Lib.SET_OPTIONS.invokeExact(ctx, options);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_ctrl}: what the {@code SSL_CTX_set_*} macros expand to. */
    public static long contextControl(MemorySegment ctx, int command, long argument) {
        try {
            return (long) Lib.SSL_CTX_CTRL.invokeExact(ctx, command, argument, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_CTX_set_num_tickets}: session tickets sent after a TLS 1.3 handshake. */
    public static void setTicketCount(MemorySegment ctx, long count) {
        try {
            if ((int) Lib.SET_NUM_TICKETS.invokeExact(ctx, count) != 1) {
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
            if ((int) Lib.SET_SID_CTX.invokeExact(ctx, s, id.length) != 1) {
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
        MemorySegment prefs = Alpn.encode(protocols);
        try {
            Lib.SET_ALPN_SELECT_CB.invokeExact(ctx, Alpn.STUB, prefs);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- SSL

    /** {@code SSL_new(ctx)}; in server (accept) state. */
    public static MemorySegment newSsl(MemorySegment ctx) {
        try {
            MemorySegment ssl = (MemorySegment) Lib.SSL_NEW.invokeExact(ctx);
            if (ssl.address() == 0) {
                throw failure("SSL_new");
            }
            Lib.SSL_SET_ACCEPT_STATE.invokeExact(ssl);
            return ssl;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_free}: frees the SSL and the BIOs given to it. */
    public static void freeSsl(MemorySegment ssl) {
        try {
            Lib.SSL_FREE.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_set_bio}: the SSL owns both BIOs from now on. */
    public static void setBio(MemorySegment ssl, MemorySegment readBio, MemorySegment writeBio) {
        try {
            Lib.SSL_SET_BIO.invokeExact(ssl, readBio, writeBio);
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
            Lib.SSL_SET0_WBIO.invokeExact(ssl, writeBio);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code BIO_new_socket(fd, BIO_NOCLOSE)}: a BIO writing to the socket {@code fd} itself,
     * which OpenSSL can switch to kernel TLS after the handshake; the descriptor stays the caller's.
     */
    public static MemorySegment newSocketBio(int fd) {
        Lib.require();
        try {
            MemorySegment bio = (MemorySegment) Lib.BIO_NEW_SOCKET.invokeExact(fd, OpenSslConstants.BIO_NOCLOSE);
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
            if ((int) Lib.SSL_SET_FD.invokeExact(ssl, fd) != 1) {
                throw failure("SSL_set_fd");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_do_handshake}: 1 done, else pass the result to {@link #error}. */
    public static int doHandshake(MemorySegment ssl) {
        try {
            return (int) Lib.SSL_DO_HANDSHAKE.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_read}: plaintext bytes read (> 0), else pass the result to {@link #error}. */
    public static int read(MemorySegment ssl, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) Lib.SSL_READ.invokeExact(ssl, at, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_write}: plaintext bytes taken (> 0), else pass the result to {@link #error}. */
    public static int write(MemorySegment ssl, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) Lib.SSL_WRITE.invokeExact(ssl, at, length);
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
            return (long) Lib.SSL_SENDFILE.invokeExact(ssl, fd, offset, size, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_get_error}: an {@code SSL_ERROR_*} code for the result of the last call. */
    public static int error(MemorySegment ssl, int result) {
        try {
            return (int) Lib.SSL_GET_ERROR.invokeExact(ssl, result);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_shutdown}: queues close_notify. */
    public static int shutdown(MemorySegment ssl) {
        try {
            return (int) Lib.SSL_SHUTDOWN.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_version}: TLS1_2_VERSION, TLS1_3_VERSION... */
    public static int protocolVersion(MemorySegment ssl) {
        try {
            return (int) Lib.SSL_VERSION.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_session_reused}: whether the handshake resumed a session. */
    public static boolean sessionReused(MemorySegment ssl) {
        try {
            return (int) Lib.SSL_SESSION_REUSED.invokeExact(ssl) == 1;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_pending}: decrypted bytes buffered inside the SSL, ready for {@link #read}. */
    public static int pending(MemorySegment ssl) {
        try {
            return (int) Lib.SSL_PENDING.invokeExact(ssl);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code SSL_get_wbio}: the BIO the SSL writes records to. */
    public static MemorySegment writeBio(MemorySegment ssl) {
        try {
            return (MemorySegment) Lib.SSL_GET_WBIO.invokeExact(ssl);
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
            Lib.SSL_GET0_ALPN.invokeExact(ssl, data, length);
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
        Lib.require();
        try {
            MemorySegment bio = (MemorySegment) Lib.BIO_NEW.invokeExact((MemorySegment) Lib.BIO_S_MEM.invokeExact());
            if (bio.address() == 0) {
                throw failure("BIO_new");
            }
            return bio;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void freeBio(MemorySegment bio) {
        try {
            int ignored = (int) Lib.BIO_FREE.invokeExact(bio);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code BIO_read}: bytes taken out of the BIO (> 0), or <= 0 when it is empty. */
    public static int bioRead(MemorySegment bio, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) Lib.BIO_READ.invokeExact(bio, at, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code BIO_write}: bytes put into the BIO; a memory BIO takes them all. */
    public static int bioWrite(MemorySegment bio, MemorySegment buffer, long offset, int length) {
        long at = address(buffer, offset, length);
        try {
            return (int) Lib.BIO_WRITE.invokeExact(bio, at, length);
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
            return (long) Lib.BIO_CTRL.invokeExact(bio, command, argument, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- errors

    /** Empties this thread's error queue ({@code ERR_clear_error}): before a call whose failure will be read. */
    public static void clearErrors() {
        try {
            Lib.ERR_CLEAR_ERROR.invokeExact();
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
                long code = (long) Lib.ERR_GET_ERROR.invokeExact();
                if (code == 0) {
                    break;
                }
                Lib.ERR_ERROR_STRING_N.invokeExact(code, text, 256L);
                if (!sb.isEmpty()) {
                    sb.append("; ");
                }
                sb.append(text.getString(0, StandardCharsets.US_ASCII));
            }
            Lib.ERR_CLEAR_ERROR.invokeExact();
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

    /**
     * The handles, made when first needed (final, so the JIT treats them as constants). When a
     * library or symbol is missing the handles are null and {@link #FAILURE} says why.
     */
    private static final class Lib {
        private static final SymbolLookup SSL;
        private static final SymbolLookup CRYPTO;
        private static final String MISSING;

        static {
            SymbolLookup ssl = null;
            SymbolLookup crypto = null;
            String missing = null;
            try {
                crypto = SymbolLookup.libraryLookup(LIBCRYPTO, Arena.global());
                ssl = SymbolLookup.libraryLookup(LIBSSL, Arena.global());
            } catch (IllegalArgumentException e) {
                missing = "OpenSSL 3 is not installed (" + e.getMessage() + "): install libssl3 (Debian/Ubuntu: "
                        + "apt-get install libssl3) to serve HTTPS";
            }
            SSL = ssl;
            CRYPTO = crypto;
            MISSING = missing;
        }

        private static String absentSymbol;
        static final MethodHandle OPENSSL_VERSION_NUM = h(CRYPTO, "OpenSSL_version_num",
                FunctionDescriptor.of(JAVA_LONG));
        static final MethodHandle OPENSSL_VERSION = h(CRYPTO, "OpenSSL_version",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle TLS_SERVER_METHOD = h(SSL, "TLS_server_method",
                FunctionDescriptor.of(ADDRESS));
        static final MethodHandle SSL_CTX_NEW = h(SSL, "SSL_CTX_new",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle SSL_CTX_FREE = h(SSL, "SSL_CTX_free",
                FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle USE_CHAIN_FILE = h(SSL, "SSL_CTX_use_certificate_chain_file",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle USE_KEY_FILE = h(SSL, "SSL_CTX_use_PrivateKey_file",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle CHECK_KEY = h(SSL, "SSL_CTX_check_private_key",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SET_OPTIONS = h(SSL, "SSL_CTX_set_options",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
        static final MethodHandle SSL_CTX_CTRL = h(SSL, "SSL_CTX_ctrl",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        static final MethodHandle SET_NUM_TICKETS = h(SSL, "SSL_CTX_set_num_tickets",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle SET_SID_CTX = h(SSL, "SSL_CTX_set_session_id_context",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle SET_ALPN_SELECT_CB = h(SSL, "SSL_CTX_set_alpn_select_cb",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle SSL_NEW = h(SSL, "SSL_new",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle SSL_FREE = h(SSL, "SSL_free",
                FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle SSL_SET_ACCEPT_STATE = h(SSL, "SSL_set_accept_state",
                FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle SSL_SET_BIO = h(SSL, "SSL_set_bio",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle SSL_SET_FD = h(SSL, "SSL_set_fd",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SSL_DO_HANDSHAKE = h(SSL, "SSL_do_handshake",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_READ = h(SSL, "SSL_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle SSL_WRITE = h(SSL, "SSL_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle SSL_SENDFILE = h(SSL, "SSL_sendfile",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        static final MethodHandle SSL_GET_ERROR = h(SSL, "SSL_get_error",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SSL_SHUTDOWN = h(SSL, "SSL_shutdown",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_VERSION = h(SSL, "SSL_version",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_SESSION_REUSED = h(SSL, "SSL_session_reused",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_PENDING = h(SSL, "SSL_pending",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle SSL_GET_WBIO = h(SSL, "SSL_get_wbio",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle SSL_GET0_ALPN = h(SSL, "SSL_get0_alpn_selected",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle BIO_S_MEM = h(CRYPTO, "BIO_s_mem",
                FunctionDescriptor.of(ADDRESS));
        static final MethodHandle BIO_NEW = h(CRYPTO, "BIO_new",
                FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle BIO_FREE = h(CRYPTO, "BIO_free",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle BIO_READ = h(CRYPTO, "BIO_read",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle BIO_WRITE = h(CRYPTO, "BIO_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        static final MethodHandle BIO_CTRL = h(CRYPTO, "BIO_ctrl",
                FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        static final MethodHandle SSL_SET0_WBIO = h(SSL, "SSL_set0_wbio",
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        static final MethodHandle BIO_NEW_SOCKET = h(CRYPTO, "BIO_new_socket",
                FunctionDescriptor.of(ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle ERR_GET_ERROR = h(CRYPTO, "ERR_get_error",
                FunctionDescriptor.of(JAVA_LONG));
        static final MethodHandle ERR_ERROR_STRING_N = h(CRYPTO, "ERR_error_string_n",
                FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_LONG));
        static final MethodHandle ERR_CLEAR_ERROR = h(CRYPTO, "ERR_clear_error",
                FunctionDescriptor.ofVoid());
        static final String FAILURE = failure();

        private static String failure() {
            if (MISSING != null) {
                return MISSING;
            }
            if (absentSymbol != null) {
                return "OpenSSL 3 could not be bound: no symbol " + absentSymbol;
            }
            try {
                long version = (long) OPENSSL_VERSION_NUM.invokeExact();
                if (version >>> 28 != OpenSslConstants.OPENSSL_VERSION_MAJOR) {
                    return LIBSSL + " reports version 0x" + Long.toHexString(version)
                            + ", but keel's constants were generated from OpenSSL "
                            + OpenSslConstants.OPENSSL_VERSION_MAJOR + " headers";
                }
                return null;
            } catch (Throwable t) {
                return "OpenSSL 3 could not be called: " + t;
            }
        }

        private static MethodHandle h(SymbolLookup lib, String name, FunctionDescriptor d) {
            if (lib == null) {
                return null;
            }
            MemorySegment symbol = lib.find(name).orElse(null);
            if (symbol == null) {
                absentSymbol = name;
                return null;
            }
            return Downcalls.LINKER.downcallHandle(symbol, d);
        }

        static void require() {
            if (FAILURE != null) {
                throw new IllegalStateException(FAILURE);
            }
        }
    }

    /** The ALPN select callback: one upcall stub for the process, the server's list per context. */
    private static final class Alpn {
        static final MemorySegment STUB;

        static {
            try {
                MethodHandle target = MethodHandles.lookup().findStatic(Alpn.class, "select",
                        MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class,
                                MemorySegment.class, int.class, MemorySegment.class));
                STUB = Linker.nativeLinker().upcallStub(target,
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS),
                        Arena.global());
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** The wire format of RFC 7301 (length-prefixed names), ended by a zero length byte. */
        static MemorySegment encode(String... protocols) {
            int total = 1;
            for (String p : protocols) {
                int n = p.getBytes(StandardCharsets.US_ASCII).length;
                if (n == 0 || n > 255) {
                    throw new IllegalArgumentException("ALPN protocol name must be 1..255 bytes: '" + p + "'");
                }
                total += 1 + n;
            }
            MemorySegment s = Arena.global().allocate(total);
            long at = 0;
            for (String p : protocols) {
                byte[] b = p.getBytes(StandardCharsets.US_ASCII);
                s.set(JAVA_BYTE, at++, (byte) b.length);
                MemorySegment.copy(b, 0, s, JAVA_BYTE, at, b.length);
                at += b.length;
            }
            s.set(JAVA_BYTE, at, (byte) 0);
            return s;
        }

        /**
         * {@code int cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
         * const unsigned char *in, unsigned int inlen, void *arg)}. Must not throw: an upcall that
         * throws ends the JVM. Any surprise refuses the handshake instead.
         */
        static int select(MemorySegment ssl, MemorySegment out, MemorySegment outLength, MemorySegment in,
                          int inLength, MemorySegment arg) {
            try {
                MemorySegment offered = in.reinterpret(inLength & 0xFFFFFFFFL);
                MemorySegment prefs = arg.reinterpret(Integer.MAX_VALUE);
                long p = 0;
                int plen;
                while ((plen = prefs.get(JAVA_BYTE, p) & 0xFF) != 0) {
                    long c = 0;
                    while (c < offered.byteSize()) {
                        int clen = offered.get(JAVA_BYTE, c) & 0xFF;
                        if (c + 1 + clen > offered.byteSize()) {
                            break;
                        }
                        if (clen == plen && MemorySegment.mismatch(offered, c + 1, c + 1 + clen, prefs, p + 1,
                                p + 1 + plen) < 0) {
                            out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, offered.asSlice(c + 1, clen));
                            outLength.reinterpret(1).set(JAVA_BYTE, 0, (byte) clen);
                            return OpenSslConstants.SSL_TLSEXT_ERR_OK;
                        }
                        c += 1 + clen;
                    }
                    p += 1 + plen;
                }
                return OpenSslConstants.SSL_TLSEXT_ERR_ALERT_FATAL;
            } catch (Throwable t) {
                return OpenSslConstants.SSL_TLSEXT_ERR_ALERT_FATAL;
            }
        }
    }
}
