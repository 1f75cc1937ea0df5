package dev.keel.cli;

import dev.keel.ffm.OpenSslException;
import dev.keel.ffm.Signals;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.LinuxConstants;
import dev.keel.zerocopy.http.FileServer;
import dev.keel.zerocopy.tls.TlsContext;
import dev.keel.zerocopy.tls.TlsFailure;
import dev.keel.zerocopy.tls.TlsStats;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code keel serve}'s HTTPS options: {@code --tls-cert FILE --tls-key FILE} (PEM) serve HTTPS,
 * on {@code --port} alone or, with {@code --tls-port P}, on P beside plain HTTP on
 * {@code --port}. The certificate is read again on SIGHUP (through {@code sun.misc.Signal}, the
 * JDK's supported-but-unofficial signal API in module jdk.unsupported; keel has no other signal
 * handling, and a file watch would reload half-written files): new connections get the new
 * certificate, open ones keep theirs, and a reload that fails keeps the running certificate
 * and says why. Installing the handler replaces the JVM's default for SIGHUP (shut down): a
 * TLS server reloads on SIGHUP as nginx does, and stops on SIGINT or SIGTERM; a SIGHUP left
 * ignored by the parent ({@code nohup}) is taken back, as nginx does, since the JVM would
 * otherwise keep it ignored and never reload.
 */
final class TlsOptions {
    static final Set<String> VALUED = Set.of("tls-cert", "tls-key", "tls-port");
    static final String HELP = """
              --tls-cert FILE     serve HTTPS with this PEM certificate chain (leaf first), with
              --tls-key FILE      this PEM private key; TLS 1.2 and 1.3, ALPN http/1.1, session
                                  tickets. SIGHUP reads both files again for new connections
              --tls-port P        HTTPS on port P beside plain HTTP on --port (default: --port
                                  itself speaks HTTPS)
            """;

    private TlsOptions() {
    }

    /** The TLS context the options ask for, or null without --tls-cert; bad files are a {@link UsageException}. */
    static TlsContext open(CommandOptions o) {
        boolean cert = o.has("tls-cert");
        boolean key = o.has("tls-key");
        if (!cert && !key) {
            if (o.has("tls-port")) {
                throw new UsageException("--tls-port needs --tls-cert and --tls-key");
            }
            return null;
        }
        if (cert != key) {
            throw new UsageException("--tls-cert and --tls-key go together");
        }
        try {
            return TlsContext.open(Path.of(o.value("tls-cert", "")), Path.of(o.value("tls-key", "")));
        } catch (OpenSslException e) {
            throw new UsageException("cannot use the certificate: " + e.getMessage());
        } catch (IllegalStateException e) {
            throw new UsageException(e.getMessage()); // OpenSSL 3 not installed
        }
    }

    /**
     * Says once, at start, how HTTPS bodies leave: through kernel TLS where the kernel has it
     * (connections on a transport that lends its sockets hand their keys to the kernel after the
     * handshake), or encrypted in user space, and why.
     */
    static void report(TlsContext tls, PrintStream err) {
        if (tls.kernelTls()) {
            err.println("keel serve: kernel TLS available: connections hand their keys to the kernel after the handshake"
                    + " and send file bodies with sendfile (io_uring with direct descriptors, and ciphers the kernel"
                    + " lacks, stay in user space)");
        } else {
            err.println("keel serve: kernel TLS unavailable (" + tls.kernelTlsReason()
                    + "): HTTPS bodies are encrypted in user space (pread into off-heap buffers, OpenSSL)");
        }
        err.flush();
    }

    /**
     * Reloads {@code tls} on every SIGHUP, saying on {@code err} what happened. A SIGHUP the
     * parent left ignored ({@code nohup}, a CI runner, a supervisor) is taken back first: the
     * JVM refuses to handle an inherited SIG_IGN (it keeps the signal ignored and says so only by
     * returning SIG_IGN), which would leave the reload silently dead. {@code nohup}'s purpose,
     * surviving a hang-up, still holds: the handler reloads, it does not stop the server. A
     * SIGHUP arriving in the microseconds between the two steps would stop keel, as SIGHUP does
     * by default. Returns false, having said why, when SIGHUP cannot be had.
     */
    @SuppressWarnings("sunapi")
    static boolean reloadOnSighup(TlsContext tls, PrintStream err) {
        sun.misc.Signal hup = new sun.misc.Signal("HUP");
        sun.misc.SignalHandler reload = signal -> {
            try {
                tls.reload();
                err.println("keel serve: SIGHUP: certificate reloaded from " + tls.certificate()
                        + " for new connections");
            } catch (RuntimeException e) {
                err.println("keel serve: SIGHUP: reload failed, the running certificate stays: " + e.getMessage());
            }
            err.flush();
        };
        try {
            if (sun.misc.Signal.handle(hup, reload) != sun.misc.SignalHandler.SIG_IGN) {
                return true;
            }
            Signals.restoreDefault(LinuxConstants.SIGHUP);
            if (sun.misc.Signal.handle(hup, reload) != sun.misc.SignalHandler.SIG_IGN) {
                err.println("keel serve: SIGHUP was ignored by the parent process (nohup?): taken back for"
                        + " certificate reload");
                err.flush();
                return true;
            }
            err.println("keel serve: SIGHUP stays ignored (inherited from the parent process):"
                    + " no certificate reload on SIGHUP");
        } catch (IllegalArgumentException | SyscallException e) {
            err.println("keel serve: no certificate reload on SIGHUP: " + e.getMessage());
        }
        err.flush();
        return false;
    }

    /** The TLS and read-ahead counters in Prometheus text, for the metrics endpoint. */
    static String prometheus(TlsStats stats, FileServer... servers) {
        StringBuilder sb = new StringBuilder();
        if (stats != null) {
            long[] versions = stats.byVersion();
            sb.append("# HELP keel_tls_handshakes_total TLS handshakes completed, by protocol version.\n")
                    .append("# TYPE keel_tls_handshakes_total counter\n")
                    .append("keel_tls_handshakes_total{version=\"1.2\"} ").append(versions[0]).append('\n')
                    .append("keel_tls_handshakes_total{version=\"1.3\"} ").append(versions[1]).append('\n')
                    .append("# HELP keel_tls_resumed_total TLS handshakes that resumed a session.\n")
                    .append("# TYPE keel_tls_resumed_total counter\n")
                    .append("keel_tls_resumed_total ").append(stats.resumed()).append('\n')
                    .append("# HELP keel_tls_kernel_total Connections that tried kernel TLS: taken, or user space.\n")
                    .append("# TYPE keel_tls_kernel_total counter\n")
                    .append("keel_tls_kernel_total{outcome=\"kernel\"} ").append(stats.kernelTlsAttempts()[0]).append('\n')
                    .append("keel_tls_kernel_total{outcome=\"user_space\"} ").append(stats.kernelTlsAttempts()[1])
                    .append('\n')
                    .append("# HELP keel_tls_failures_total TLS connections closed for a reason.\n")
                    .append("# TYPE keel_tls_failures_total counter\n");
            for (TlsFailure f : TlsFailure.values()) {
                sb.append("keel_tls_failures_total{reason=\"").append(f.label()).append("\"} ")
                        .append(stats.failures(f)).append('\n');
            }
        }
        long[] sum = new long[4];
        for (FileServer s : servers) {
            if (s != null) {
                long[] c = s.readAheadCounts();
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += c[i];
                }
            }
        }
        sb.append("# HELP keel_read_ahead_chunks_total Cold body chunks read into the page cache off the loops.\n")
                .append("# TYPE keel_read_ahead_chunks_total counter\n")
                .append("keel_read_ahead_chunks_total{state=\"submitted\"} ").append(sum[0]).append('\n')
                .append("keel_read_ahead_chunks_total{state=\"completed\"} ").append(sum[1]).append('\n')
                .append("keel_read_ahead_chunks_total{state=\"refused\"} ").append(sum[2]).append('\n')
                .append("# HELP keel_read_ahead_bytes_total Bytes read ahead off the loops.\n")
                .append("# TYPE keel_read_ahead_bytes_total counter\n")
                .append("keel_read_ahead_bytes_total ").append(sum[3]).append('\n');
        return sb.toString();
    }
}
