package dev.keel.zerocopy.tls;

import dev.keel.ffm.KernelTls;
import dev.keel.ffm.OpenSsl;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

import static dev.keel.ffm.gen.OpenSslConstants.SSL_CTRL_MODE;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_CTRL_SET_MIN_PROTO_VERSION;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_CTRL_SET_SESS_CACHE_MODE;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_CTRL_SET_SESS_CACHE_SIZE;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_MODE_RELEASE_BUFFERS;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_OP_CIPHER_SERVER_PREFERENCE;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_OP_ENABLE_KTLS;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_OP_NO_COMPRESSION;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_OP_NO_RENEGOTIATION;
import static dev.keel.ffm.gen.OpenSslConstants.SSL_SESS_CACHE_SERVER;
import static dev.keel.ffm.gen.OpenSslConstants.TLS1_2_VERSION;

/**
 * A TLS server's certificate and settings: one OpenSSL {@code SSL_CTX} with TLS 1.2 and 1.3
 * (older versions refused), ALPN {@code http/1.1}, session tickets (two per TLS 1.3 handshake,
 * OpenSSL's default) and a server-side session cache of {@link #SESSION_CACHE_ENTRIES} for
 * TLS 1.2 session ids.
 *
 * <p>{@link #reload()} reads the certificate and key files again into a new {@code SSL_CTX}
 * and makes it the one new connections get; connections already open keep the context they
 * started with (OpenSSL counts its references, so the old one is freed with its last
 * connection). A reload that fails (a missing or mismatched file) leaves the running context
 * in place and throws, saying why. Tickets issued under the old context are not accepted by
 * the new one (each context has its own ticket keys): those clients make a full handshake once.
 *
 * <p>Kernel TLS: when asked for and {@link KernelTls} finds the kernel able, the context sets
 * SSL_OP_ENABLE_KTLS; {@link #kernelTlsReason()} says why kTLS is not in use otherwise.
 *
 * <p>Thread-safe: loops take new connections with {@link #newSsl()} while another thread reloads.
 */
public final class TlsContext implements AutoCloseable {
    /** TLS 1.2 sessions the server remembers for resumption by session id. */
    public static final int SESSION_CACHE_ENTRIES = 20_000;
    private static final byte[] SESSION_CONTEXT = "keel".getBytes(StandardCharsets.US_ASCII);

    private final Path certificate;
    private final Path key;
    private final boolean kernelTls;
    private final boolean attemptKernelTls;
    private final String kernelTlsReason;
    private final TlsStats stats = new TlsStats();
    private MemorySegment current;
    private int reloads;
    private boolean closed;

    private TlsContext(Path certificate, Path key, boolean kernelTlsWanted, boolean attemptAnyway) {
        this.certificate = certificate;
        this.key = key;
        String reason = OpenSsl.unavailableReason();
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        String kernel = kernelTlsWanted ? KernelTls.unavailableReason() : "kernel TLS not requested";
        this.kernelTls = kernel == null;
        this.attemptKernelTls = kernelTls || attemptAnyway;
        this.kernelTlsReason = kernel;
        this.current = build();
    }

    /**
     * A context serving the PEM certificate chain {@code certificate} (leaf first) with the PEM
     * private key {@code key}; kernel TLS is enabled where the kernel has it.
     *
     * @throws IllegalStateException when OpenSSL 3 is not installed
     * @throws dev.keel.ffm.OpenSslException naming the file and OpenSSL's reason when a file is
     *         missing, unreadable, not PEM, or the key does not match the certificate
     */
    public static TlsContext open(Path certificate, Path key) {
        return new TlsContext(Objects.requireNonNull(certificate), Objects.requireNonNull(key), true, false);
    }

    /** Like {@link #open} with kernel TLS left off whatever the kernel can do (tests, comparisons). */
    public static TlsContext openUserSpace(Path certificate, Path key) {
        return new TlsContext(Objects.requireNonNull(certificate), Objects.requireNonNull(key), false, false);
    }

    /**
     * Like {@link #open}, but every connection tries kernel TLS (socket writes, SSL_OP_ENABLE_KTLS)
     * whatever {@link KernelTls} found, and falls back to user space after its handshake when
     * OpenSSL reports the kernel did not take it: for a kernel the probe misjudges, and to test
     * the fallback where the kernel has no TLS.
     */
    public static TlsContext openTryingKernelTls(Path certificate, Path key) {
        return new TlsContext(Objects.requireNonNull(certificate), Objects.requireNonNull(key), true, true);
    }

    private MemorySegment build() {
        MemorySegment ctx = OpenSsl.newServerContext();
        try {
            OpenSsl.useCertificateChainFile(ctx, certificate.toString());
            OpenSsl.usePrivateKeyFile(ctx, key.toString());
            long options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
            if (attemptKernelTls) {
                options |= SSL_OP_ENABLE_KTLS;
            }
            OpenSsl.setOptions(ctx, options);
            OpenSsl.contextControl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION);
            OpenSsl.contextControl(ctx, SSL_CTRL_MODE, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
            OpenSsl.contextControl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_SERVER);
            OpenSsl.contextControl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, SESSION_CACHE_ENTRIES);
            OpenSsl.setSessionIdContext(ctx, SESSION_CONTEXT);
            OpenSsl.selectAlpn(ctx, "http/1.1");
            return ctx;
        } catch (RuntimeException e) {
            OpenSsl.freeContext(ctx);
            throw e;
        }
    }

    /**
     * A new server-side {@code SSL} on the current context (the caller frees it with
     * {@link OpenSsl#freeSsl}); it holds its own reference to the context.
     */
    public synchronized MemorySegment newSsl() {
        if (closed) {
            throw new IllegalStateException("TLS context closed");
        }
        return OpenSsl.newSsl(current);
    }

    /**
     * Reads the certificate and key again and serves them to connections opened from now on;
     * open connections are not touched.
     *
     * @throws dev.keel.ffm.OpenSslException when the files cannot be used; the previous
     *         certificate stays in service
     */
    public void reload() {
        MemorySegment fresh = build();
        MemorySegment old;
        synchronized (this) {
            if (closed) {
                OpenSsl.freeContext(fresh);
                throw new IllegalStateException("TLS context closed");
            }
            old = current;
            current = fresh;
            reloads++;
        }
        OpenSsl.freeContext(old); // connections made from it hold their own references
    }

    /** Successful reloads so far. */
    public synchronized int reloads() {
        return reloads;
    }

    /** Whether SSL_OP_ENABLE_KTLS is set (the kernel has TLS and it was asked for). */
    public boolean kernelTls() {
        return kernelTls;
    }

    /**
     * Whether connections try kernel TLS: OpenSSL writes to the socket during the handshake and
     * keeps the kernel's encryption after it when the kernel took the keys
     * ({@link TlsConnection#openWithSocketWrites}); true where {@link #kernelTls()} is, or when
     * asked with {@link #openTryingKernelTls}.
     */
    public boolean attemptsKernelTls() {
        return attemptKernelTls;
    }

    /** Why kernel TLS is not used, or null when it is enabled. */
    public String kernelTlsReason() {
        return kernelTlsReason;
    }

    /** The counters of every connection made on this context, across reloads. */
    public TlsStats stats() {
        return stats;
    }

    /** The certificate file, read at start and on each {@link #reload()}. */
    public Path certificate() {
        return certificate;
    }

    /** Frees the context; connections still open keep theirs alive until they are freed. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            OpenSsl.freeContext(current);
        }
    }
}
