package dev.keel.cli;

import dev.keel.affinity.CpuReservations;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.ReservedPlan;
import dev.keel.io.Transport;
import dev.keel.zerocopy.proxy.SpliceProxy;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * {@code keel proxy --port P --to HOST:PORT}: a TCP proxy moving payload with splice(2), never
 * through Java, until SIGINT/SIGTERM.
 */
final class ProxyCommand implements Command {
    static final String USAGE = """
            usage: keel proxy --port P --to HOST:PORT [--host ADDR] [--loops N|auto] [--cpus LIST]
                              [--pipe-size BYTES] [--transport epoll|auto]

            Forwards every connection accepted on P to HOST:PORT; bytes go socket -> pipe ->
            socket with splice(2) in both directions, half-closes and resets are passed on.
            Each loop is pinned to a CPU of the core plan, around CPUs other keel processes
            reserved, and reserves it while it runs (see keel cpus).
              --port P            port to listen on (0 picks a free one)
              --to HOST:PORT      where to forward
              --host ADDR         address to listen on (default 127.0.0.1)
              --loops N           proxy loops, one thread each (default 1, or one per CPU of --cpus);
                                  auto: one per free usable core, within the cgroup's CPU quota
              --cpus LIST         pin the loops to these CPUs, one each; a CPU another process
                                  reserved is used anyway, with a warning naming it
              --pipe-size BYTES   capacity of each direction's pipe (default: the kernel's 64 KiB)
              --transport T       epoll (default) or auto, which picks epoll too: io_uring runs
                                  splice(2) on io-wq worker threads, one blocked per idle
                                  direction, so the proxy waits for readiness with epoll instead
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM.
            """;
    private static final Set<String> VALUED = Set.of("port", "to", "host", "loops", "cpus", "pipe-size", "transport");
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
        ServerSettings settings = settings(o);
        int loops = settings.loops();
        Placement placement = Placement.of(settings.cpus(), loops);
        SpliceProxy proxy;
        try {
            proxy = start(o, settings, placement.cpus());
        } catch (RuntimeException e) {
            placement.close();
            throw e;
        }
        ServerSettings.warnContested("keel proxy", placement.contested(), err);
        placement.unpinnedBecause().forEach(why -> err.println("keel proxy: loops run unpinned: " + why));
        AutoCloseable both = () -> {
            try {
                proxy.close();
            } finally {
                placement.close();
            }
        };
        return UntilStopped.serve("keel proxy", "keel proxy: " + proxy.address().getAddress().getHostAddress() + ":"
                + proxy.port() + " -> " + proxy.target().getHostString() + ":" + proxy.target().getPort()
                + " (splice, " + loops + (loops == 1 ? " loop, " : " loops, ")
                + ServerSettings.placement(proxy.cpus(), placement.plannedAround()) + ")", both, out, err);
    }

    static SpliceProxy start(CommandOptions o) {
        return start(o, settings(o), new int[0]);
    }

    /** The options every server command shares ({@link ServerSettings}), with --port and --to required. */
    private static ServerSettings settings(CommandOptions o) {
        if (!o.has("port")) {
            throw new UsageException("--port is required");
        }
        if (!o.has("to")) {
            throw new UsageException("--to HOST:PORT is required");
        }
        ServerSettings settings = ServerSettings.from(o, 0);
        checkTransport(settings.transport());
        return settings;
    }

    private static SpliceProxy start(CommandOptions o, ServerSettings settings, int[] cpus) {
        InetSocketAddress target = target(o.value("to", ""));
        try {
            return SpliceProxy.builder()
                    .host(settings.host())
                    .port(settings.port())
                    .target(target)
                    .loops(settings.loops())
                    .cpus(cpus)
                    .pipeSize(o.integer("pipe-size", 0, 0, 1 << 30))
                    .start();
        } catch (dev.keel.ffm.SyscallException e) {
            throw new UsageException("cannot listen: " + e.getMessage());
        }
    }

    /**
     * The proxy loops' CPUs as a server's: the --cpus given (reserving the free ones), else
     * the core plan around others' reservations; unpinned, with the reason, when no plan fits.
     */
    private record Placement(int[] cpus, ReservedPlan reserved, List<String> unpinnedBecause) implements AutoCloseable {
        static Placement of(int[] cpus, int loops) {
            CpuReservations r;
            try {
                r = CpuReservations.shared();
            } catch (RuntimeException e) {
                return new Placement(cpus, null, cpus.length != 0 ? List.of() : List.of("CPUs not reserved: " + e.getMessage()));
            }
            if (cpus.length != 0) {
                ReservedPlan explicit = ReservedPlan.explicit(r, cpus);
                return new Placement(explicit.cpus(), explicit, List.of());
            }
            try {
                ReservedPlan plan = ReservedPlan.plan(CpuTopology.system(), r, loops);
                return new Placement(plan.cpus(), plan, List.of());
            } catch (RuntimeException e) {
                return new Placement(new int[0], null, List.of(e.getMessage()));
            }
        }

        @Override
        public int[] cpus() {
            return cpus.clone();
        }

        List<dev.keel.affinity.CpuHolder> plannedAround() {
            return reserved != null ? reserved.plannedAround() : List.of();
        }

        List<dev.keel.affinity.CpuHolder> contested() {
            return reserved != null ? reserved.contested() : List.of();
        }

        @Override
        public void close() {
            if (reserved != null) {
                reserved.close();
            }
        }
    }

    /** epoll and auto are served (both on epoll); io_uring is refused with the reason. */
    static void checkTransport(Transport t) {
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
