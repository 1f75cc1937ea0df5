package dev.keel.cli;

import dev.keel.io.Transport;
import dev.keel.zerocopy.SpliceProxy;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * {@code keel proxy --port P --to HOST:PORT}: a TCP proxy moving payload with splice(2), never
 * through Java, until SIGINT/SIGTERM.
 */
final class ProxyCommand implements Command {
    static final String USAGE = """
            usage: keel proxy --port P --to HOST:PORT [--host ADDR] [--loops N] [--pipe-size BYTES]
                              [--transport epoll|auto]

            Forwards every connection accepted on P to HOST:PORT; bytes go socket -> pipe ->
            socket with splice(2) in both directions, half-closes and resets are passed on.
              --port P            port to listen on (0 picks a free one)
              --to HOST:PORT      where to forward
              --host ADDR         address to listen on (default 127.0.0.1)
              --loops N           proxy loops, one thread each (default 1)
              --pipe-size BYTES   capacity of each direction's pipe (default: the kernel's 64 KiB)
              --transport T       epoll (default) or auto, which picks epoll too: io_uring runs
                                  splice(2) on io-wq worker threads, one blocked per idle
                                  direction, so the proxy waits for readiness with epoll instead
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM.
            """;
    private static final Set<String> VALUED = Set.of("port", "to", "host", "loops", "pipe-size", "transport");
    private static final Set<String> FLAGS = Set.of("help");

    @Override
    public String name() {
        return "proxy";
    }

    @Override
    public String summary() {
        return "TCP proxy moving bytes with splice (payload never enters Java)";
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        CommandOptions o = CommandOptions.parse(args, VALUED, FLAGS);
        if (o.flag("help")) {
            out.print(USAGE);
            return Keel.EXIT_OK;
        }
        SpliceProxy proxy = start(o);
        int loops = o.integer("loops", 1, 1, 1024);
        return UntilStopped.serve("keel proxy", "keel proxy: " + proxy.address().getAddress().getHostAddress() + ":"
                + proxy.port() + " -> " + proxy.target().getHostString() + ":" + proxy.target().getPort()
                + " (splice, " + loops + (loops == 1 ? " loop)" : " loops)"), proxy, out, err);
    }

    static SpliceProxy start(CommandOptions o) {
        if (!o.has("port")) {
            throw new UsageException("--port is required");
        }
        if (!o.has("to")) {
            throw new UsageException("--to HOST:PORT is required");
        }
        InetSocketAddress target = target(o.value("to", ""));
        checkTransport(o.value("transport", "epoll"));
        try {
            return SpliceProxy.builder()
                    .host(ServerSettings.host(o.value("host", "127.0.0.1")))
                    .port(o.integer("port", 0, 0, 65535))
                    .target(target)
                    .loops(o.integer("loops", 1, 1, 1024))
                    .pipeSize(o.integer("pipe-size", 0, 0, 1 << 30))
                    .start();
        } catch (dev.keel.ffm.SyscallException e) {
            throw new UsageException("cannot listen: " + e.getMessage());
        }
    }

    /** epoll and auto are served (both on epoll); io_uring is refused with the reason. */
    static void checkTransport(String name) {
        Transport t;
        try {
            t = Transport.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--transport: " + e.getMessage());
        }
        if (t == Transport.IO_URING) {
            throw new UsageException("--transport io_uring: the proxy moves bytes with splice(2), which io_uring runs on"
                    + " io-wq worker threads (one blocked per idle direction); it runs on epoll (--transport epoll|auto)");
        }
    }

    static InetSocketAddress target(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new UsageException("--to needs HOST:PORT, not '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageException("--to: bad port in '" + text + "'");
        }
        if (port < 1 || port > 65535) {
            throw new UsageException("--to: port " + port + " is out of range 1-65535");
        }
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved()) {
            throw new UsageException("--to: unknown host '" + host + "'");
        }
        return a;
    }
}
