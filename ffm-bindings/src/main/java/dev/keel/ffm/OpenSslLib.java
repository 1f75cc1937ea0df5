package dev.keel.ffm;

import dev.keel.ffm.gen.OpenSslConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The handles, made when first needed (final, so the JIT treats them as constants). When a
 * library or symbol is missing the handles are null and {@link #FAILURE} says why.
 */
final class OpenSslLib {
    private OpenSslLib() {
    }

    private static final SymbolLookup SSL;
    private static final SymbolLookup CRYPTO;
    private static final String MISSING;

    static {
        SymbolLookup ssl = null;
        SymbolLookup crypto = null;
        String missing = null;
        try {
            crypto = SymbolLookup.libraryLookup(OpenSsl.LIBCRYPTO, Arena.global());
            ssl = SymbolLookup.libraryLookup(OpenSsl.LIBSSL, Arena.global());
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
                return OpenSsl.LIBSSL + " reports version 0x" + Long.toHexString(version)
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
