package dev.keel.cli;

import dev.keel.ffm.SyscallException;
import dev.keel.io.EventLoopGroup;
import dev.keel.zerocopy.http.MetricsServer;

import java.net.InetAddress;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code --metrics-port P} and {@code --metrics-address ADDR} of the server commands: the loops'
 * statistics in Prometheus text at {@code http://ADDR:P/metrics}, served by a loop of its own
 * ({@link MetricsServer}) so that a scrape never holds up a serving loop. Loopback by default:
 * the counters say much about a server and are not for everyone.
 */
record MetricsEndpoint(InetAddress address, int port) {
    static final Set<String> OPTIONS = Set.of("metrics-port", "metrics-address");
    static final String HELP = """
              --metrics-port P    serve GET /metrics (Prometheus text format: connections,
                                  bytes, syscalls, loop pass times, stalls, pool use) on port P
              --metrics-address A address of the metrics endpoint (default 127.0.0.1)
            """;

    /** The endpoint the options ask for, or null without --metrics-port; checked before anything binds. */
    static MetricsEndpoint from(CommandOptions o) {
        if (!o.has("metrics-port")) {
            if (o.has("metrics-address")) {
                throw new UsageException("--metrics-address needs --metrics-port");
            }
            return null;
        }
        InetAddress address = ServerSettings.host(o.value("metrics-address", "127.0.0.1"));
        return new MetricsEndpoint(address, o.integer("metrics-port", 0, 0, 65535));
    }

    /**
     * Starts the endpoint over {@code group}'s loops. When it cannot listen, {@code server} (the
     * command's server, already started) is closed and the failure is a {@link UsageException}.
     */
    MetricsServer start(EventLoopGroup group, AutoCloseable server) {
        return start(group, () -> "", server);
    }

    /** As {@link #start(EventLoopGroup, AutoCloseable)}, with the command's own metrics ({@code more}) after the loops'. */
    MetricsServer start(EventLoopGroup group, Supplier<String> more, AutoCloseable server) {
        try {
            return MetricsServer.start(address, port, group::stats, more);
        } catch (SyscallException | IllegalStateException e) {
            try {
                server.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UsageException("--metrics-port: cannot listen: " + e.getMessage());
        }
    }

    /** What the ready line adds: {@code "; metrics on http://127.0.0.1:9100/metrics"}, or "" without one. */
    static String readySuffix(MetricsServer metrics) {
        if (metrics == null) {
            return "";
        }
        String host = metrics.address().getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "; metrics on http://" + host + ":" + metrics.port() + "/metrics";
    }

    /** Closes the metrics endpoint first (no scrape of a stopping server), then the server. */
    static AutoCloseable closing(AutoCloseable server, MetricsServer metrics) {
        if (metrics == null) {
            return server;
        }
        return () -> {
            try {
                metrics.close();
            } finally {
                server.close();
            }
        };
    }
}
