package dev.keel.cli;

import dev.keel.zerocopy.http.MetricsServer;
import dev.keel.zerocopy.proxy.ProxyStats;
import dev.keel.zerocopy.proxy.TcpProxy;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;

/**
 * {@code keel proxy --port P --to HOST:PORT}: a TCP proxy on keel's event loops (each client's
 * upstream connection opened by the loop that accepted it), until SIGINT/SIGTERM.
 */
final class ProxyCommand implements Command {
    static final String USAGE = """
            usage: keel proxy --port P --to HOST:PORT [--host ADDR] [--loops N|auto] [--cpus LIST]
                              [--transport epoll|io_uring|auto] [--idle-timeout S] [--connect-timeout MS]
                              [--busy-poll US] [--sqpoll MS] [--metrics-port P] [--metrics-address ADDR]
                   keel proxy --listen HOST:PORT --upstream HOST:PORT [options as above]

            Forwards every connection accepted on P to HOST:PORT. The loop that accepts a
            client opens its upstream connection itself, so both live on one pinned thread;
            bytes go both ways with back-pressure (a side that does not read holds the other
            back), half-closes and resets are passed on, and a refused or timed-out upstream
            connect resets the client (counted by reason: keel_proxy_* metrics). Each loop is pinned
            to a CPU of the core plan, around CPUs other keel processes reserved, and reserves
            it while it runs (see keel cpus).
              --port P            port to listen on (0 picks a free one)
              --to HOST:PORT      where to forward (an IPv6 address in brackets: [::1]:7000)
              --host ADDR         address to listen on (default 127.0.0.1; ::1, 0.0.0.0, ::)
              --listen HOST:PORT  --host and --port in one
              --upstream HOST:PORT
                                  the same as --to
              --loops N           proxy loops, one thread each (default 1, or one per CPU of --cpus);
                                  auto: one per free usable core, within the cgroup's CPU quota
              --cpus LIST         pin the loops to these CPUs, one each; a CPU another process
                                  reserved is used anyway, with a warning naming it
              --transport T       epoll (default), io_uring, or auto (io_uring where the kernel
                                  allows it, else epoll with one line saying why)
              --idle-timeout S    close a session when no byte moved on one of its sides for S
                                  seconds (default: never)
              --connect-timeout MS
                                  give up an upstream connect after MS milliseconds and reset
                                  the client (default 10000)
            """ + ServerSettings.LOOP_HELP + MetricsEndpoint.HELP + """
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM.
            """;
    private static final Set<String> VALUED = Set.of("port", "to", "host", "listen", "upstream", "loops", "cpus",
            "transport", "idle-timeout", "connect-timeout", "busy-poll", "sqpoll", "metrics-port", "metrics-address",
            "pipe-size");
    private static final Set<String> FLAGS = Set.of("help");

    @Override
    public String name() {
        return "proxy";
    }

    @Override
    public String summary() {
        return "TCP proxy on keel's event loops (upstream connected by the accepting loop)";
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        CommandOptions o = CommandOptions.parse(args, VALUED, FLAGS);
        if (o.flag("help")) {
            out.print(USAGE);
            return Keel.EXIT_OK;
        }
        MetricsEndpoint endpoint = MetricsEndpoint.from(o);
        ServerSettings settings = settings(o);
        TcpProxy proxy = start(o, settings);
        ServerSettings.warn("keel proxy", proxy.group(), settings.loopsWhy(), err);
        MetricsServer metrics = endpoint == null ? null
                : endpoint.start(proxy.group(), () -> ProxyStats.prometheusText(proxy.stats()), proxy);
        return UntilStopped.serve("keel proxy", readyLine(proxy) + MetricsEndpoint.readySuffix(metrics),
                MetricsEndpoint.closing(proxy, metrics), out, err);
    }

    /**
     * {@code keel proxy: 127.0.0.1:7001 -> 127.0.0.1:7000 (epoll, 1 loop, on CPU 0)}: where it
     * listens, where it forwards, the transport and where the loops run.
     */
    static String readyLine(TcpProxy proxy) {
        int[] cpus = proxy.cpus();
        return "keel proxy: " + ServerSettings.hostText(proxy.address().getAddress()) + ":" + proxy.port() + " -> "
                + ServerSettings.hostText(proxy.upstream().getAddress()) + ":" + proxy.upstream().getPort()
                + " (" + proxy.transport().label() + ", " + cpus.length + (cpus.length == 1 ? " loop, " : " loops, ")
                + ServerSettings.placement(cpus, proxy.group().plannedAround()) + ")";
    }

    /**
     * The options every server command shares ({@link ServerSettings}), with where to listen
     * (--port, or --listen HOST:PORT) and where to forward (--to or --upstream) required.
     */
    static ServerSettings settings(CommandOptions o) {
        if (o.has("pipe-size")) {
            throw new UsageException("--pipe-size is gone: the proxy forwards through its loops' buffers, not"
                    + " through pipes (see --help)");
        }
        if (o.has("to") == o.has("upstream")) {
            throw new UsageException(o.has("to") ? "give --to or --upstream, not both"
                    : "--to HOST:PORT (or --upstream HOST:PORT) is required");
        }
        if (o.has("listen")) {
            if (o.has("host") || o.has("port")) {
                throw new UsageException("--listen HOST:PORT names the host and port: give no --host or --port with it");
            }
            InetSocketAddress listen = address("--listen", o.value("listen", ""), 0);
            ServerSettings s = ServerSettings.from(o, 0);
            return new ServerSettings(listen.getAddress(), listen.getPort(), s.loops(), s.cpus(), s.transport(),
                    s.loopsWhy());
        }
        if (!o.has("port")) {
            throw new UsageException("--port is required (or --listen HOST:PORT)");
        }
        return ServerSettings.from(o, 0);
    }

    /** Checks the remaining options and starts the proxy; a bad value is a {@link UsageException}. */
    static TcpProxy start(CommandOptions o, ServerSettings settings) {
        String name = o.has("to") ? "--to" : "--upstream";
        InetSocketAddress upstream = address(name, o.value(o.has("to") ? "to" : "upstream", ""), 1);
        TcpProxy.Builder b = TcpProxy.builder()
                .host(settings.host())
                .port(settings.port())
                .loops(settings.loops())
                .transport(settings.transport())
                .upstream(upstream)
                .connectTimeout(Duration.ofMillis(o.integer("connect-timeout", 10_000, 1, 600_000)))
                .options(settings.loopOptions(o, TcpProxy.loopOptions()).build());
        if (settings.cpus().length > 0) {
            b.cpus(settings.cpus());
        }
        try {
            return b.start();
        } catch (dev.keel.ffm.SyscallException e) {
            throw new UsageException("cannot listen: " + e.getMessage());
        } catch (IllegalStateException e) {
            throw new UsageException(e.getMessage()); // io_uring asked for where it cannot run
        }
    }

    /**
     * {@code HOST:PORT} of option {@code name} ({@code [v6]:PORT} for an IPv6 address), resolved,
     * its port at least {@code minPort}.
     */
    static InetSocketAddress address(String name, String text, int minPort) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new UsageException(name + " needs HOST:PORT, not '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new UsageException(name + ": write an IPv6 address in brackets, [" + host + "]:PORT");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageException(name + ": bad port in '" + text + "'");
        }
        if (port < minPort || port > 65535) {
            throw new UsageException(name + ": port " + port + " is out of range " + minPort + "-65535");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new UsageException(name + ": unknown host '" + host + "'");
        }
        return new InetSocketAddress(address, port);
    }
}
