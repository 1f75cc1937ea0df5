package dev.keel.cli;

import dev.keel.affinity.CorePlan;
import dev.keel.affinity.Cpu;
import dev.keel.affinity.CpuHolder;
import dev.keel.affinity.CpuReservations;
import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.zerocopy.http.MetricsServer;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What every keel server command shares: --host, --port, --loops, --cpus and --transport,
 * and the loop options --idle-timeout, --busy-poll and --sqpoll where a command takes them,
 * checked before anything binds, the words for where the loops run (and whose reserved CPUs
 * they planned around), and the wait for SIGINT/SIGTERM.
 *
 * @param loopsWhy why this many loops, for {@code --loops auto}; empty otherwise
 */
record ServerSettings(InetAddress host, int port, int loops, int[] cpus, Transport transport, String loopsWhy) {

    static ServerSettings from(CommandOptions args, int defaultPort) {
        InetAddress host = host(args.value("host", "127.0.0.1"));
        int port = args.integer("port", defaultPort, 0, 65535);
        int[] cpus = args.has("cpus") ? cpus(args.value("cpus", "")) : new int[0];
        String loopsWhy = "";
        int loops;
        if (args.value("loops", "").equals("auto")) {
            if (cpus.length != 0) {
                throw new UsageException("--loops auto plans the CPUs itself; with --cpus give no --loops");
            }
            CorePlan.Size size = autoLoops();
            loops = size.loops();
            loopsWhy = size.reason();
        } else {
            loops = args.integer("loops", cpus.length == 0 ? 1 : cpus.length, 1, 1024);
        }
        if (cpus.length != 0 && cpus.length != loops) {
            throw new UsageException("--cpus names " + cpus.length + " CPUs for " + loops
                    + " loops; give one CPU per loop");
        }
        Transport transport;
        try {
            transport = Transport.parse(args.value("transport", "epoll"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--transport: " + e.getMessage());
        }
        return new ServerSettings(host, port, loops, cpus, transport, loopsWhy);
    }

    /** The --help lines of {@link #loopOptions}' --busy-poll and --sqpoll. */
    static final String LOOP_HELP = """
              --busy-poll US      spin this many microseconds on the poller before blocking
              --sqpoll MS         io_uring only: a kernel thread polls the submission queue,
                                  sleeping after MS idle milliseconds, on the loop's CPU
            """;

    /**
     * {@code base} with the loop options given: --idle-timeout S (1 s to a day), --busy-poll US
     * and --sqpoll MS (io_uring only); an option absent leaves {@code base}'s value.
     */
    LoopOptions.Builder loopOptions(CommandOptions args, LoopOptions.Builder base) {
        if (args.has("idle-timeout")) {
            base.idleTimeout(Duration.ofSeconds(args.integer("idle-timeout", 60, 1, 86_400)));
        }
        if (args.has("busy-poll")) {
            base.busyPoll(Duration.ofNanos(args.integer("busy-poll", 0, 0, 10_000_000) * 1000L));
        }
        if (args.has("sqpoll")) {
            if (transport != Transport.IO_URING) {
                throw new UsageException("--sqpoll needs --transport io_uring");
            }
            base.sqPollOnLoopCpu(Duration.ofMillis(args.integer("sqpoll", 2, 1, 60_000)));
        }
        return base;
    }

    /**
     * {@code --loops auto}: one loop per usable physical core that no other process has
     * reserved, within the cgroup's CPU quota (see {@link CorePlan#defaultSize}).
     */
    private static CorePlan.Size autoLoops() {
        CpuSet others = CpuSet.of(heldByOthers().stream().mapToInt(CpuHolder::cpu).toArray());
        return CorePlan.defaultSize(CpuTopology.system(), others);
    }

    /** CPUs other processes reserve now; none when the lock directory cannot be read. */
    static List<CpuHolder> heldByOthers() {
        try {
            return CpuReservations.shared().heldByOthers();
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** Parses a CPU list and refuses, with the reason, a CPU that does not exist or this process may not use. */
    static int[] cpus(String list) {
        CpuSet asked;
        try {
            asked = CpuSet.parseList(list);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--cpus: " + e.getMessage());
        }
        if (asked.isEmpty()) {
            throw new UsageException("--cpus names no CPU");
        }
        CpuTopology topology = CpuTopology.system();
        for (int cpu : asked.toArray()) {
            Cpu c = topology.cpu(cpu).orElseThrow(() -> new UsageException("--cpus: CPU " + cpu
                    + " does not exist (this machine has CPUs " + topology.present().toList() + ")"));
            c.whyNotUsable().ifPresent(why -> {
                throw new UsageException("--cpus: CPU " + cpu + " is not usable: " + why);
            });
        }
        return asked.toArray();
    }

    EventLoopGroup.Builder apply(EventLoopGroup.Builder builder) {
        builder.host(host).port(port).loops(loops).transport(transport);
        if (cpus.length != 0) {
            builder.cpus(cpus); // else the core plan places the loops
        }
        return builder;
    }

    /** {@code 127.0.0.1}, or an IPv6 address in brackets ({@code [::1]}) so that a port can follow it. */
    static String hostText(InetAddress address) {
        String text = address.getHostAddress();
        return text.contains(":") ? "[" + compressed(text) + "]" : text;
    }

    /** An IPv6 address as RFC 5952 writes it: its longest run of two or more zero groups as "::". */
    static String compressed(String full) {
        String[] groups = full.replaceFirst("%.*$", "").split(":");
        int bestAt = -1;
        int bestLength = 1;
        for (int i = 0; i < groups.length; i++) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestAt = i;
                bestLength = j - i;
            }
        }
        if (bestAt < 0) {
            return String.join(":", groups);
        }
        String head = String.join(":", Arrays.copyOfRange(groups, 0, bestAt));
        String tail = String.join(":", Arrays.copyOfRange(groups, bestAt + bestLength, groups.length));
        return head + "::" + tail;
    }

    /** An address for --host ({@code ::1}, {@code [::1]} and {@code ::} included), or a usage error naming it. */
    static InetAddress host(String name) {
        try {
            return InetAddress.getByName(name);
        } catch (UnknownHostException e) {
            throw new UsageException("--host: unknown address '" + name + "'");
        }
    }

    /** "on CPUs 0,1" for pinned loops, "unpinned" otherwise. */
    static String placement(int[] cpus) {
        return Arrays.stream(cpus).allMatch(c -> c < 0) ? "unpinned"
                : "on CPU" + (cpus.length == 1 ? " " : "s ")
                + Arrays.stream(cpus).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /**
     * {@link #placement(int[])} and the reserved CPUs the plan left out:
     * {@code on CPU 1, planned around CPU 0 of pid 4242 "keel echo --port 7000"}.
     */
    static String placement(int[] cpus, List<CpuHolder> plannedAround) {
        if (plannedAround.isEmpty()) {
            return placement(cpus);
        }
        return placement(cpus) + ", planned around " + plannedAround.stream()
                .map(h -> "CPU " + h.cpu() + " of " + h.who()).collect(Collectors.joining(", "));
    }

    /**
     * One line on {@code err} per CPU of --cpus that another process reserved (the loop runs
     * there anyway: --cpus wins), one for loops left unpinned, one for the --loops auto count.
     */
    static void warn(String command, EventLoopGroup group, String loopsWhy, PrintStream err) {
        warnContested(command, group.contested(), err);
        group.unpinnedBecause().ifPresent(why -> err.println(command + ": loops run unpinned: " + why));
        if (!loopsWhy.isEmpty()) {
            err.println(command + ": --loops auto: " + group.loops().size()
                    + (group.loops().size() == 1 ? " loop: " : " loops: ") + loopsWhy);
        }
    }

    static void warnContested(String command, List<CpuHolder> contested, PrintStream err) {
        for (CpuHolder h : contested) {
            err.println(command + ": warning: CPU " + h.cpu() + " is reserved by " + h.who() + " since " + h.since()
                    + "; --cpus puts a loop there anyway");
        }
    }

    /** Prints the ready line, then blocks until SIGINT/SIGTERM closes {@code group}. */
    static int serveUntilSignalled(EventLoopGroup group, String what, PrintStream out, PrintStream err) {
        return serveUntilSignalled(group, null, what, out, err);
    }

    /** As above, closing the {@code metrics} endpoint (null: none) too, and naming it in the ready line. */
    static int serveUntilSignalled(EventLoopGroup group, MetricsServer metrics, String what, PrintStream out,
                                   PrintStream err) {
        int[] cpus = group.cpus();
        String ready = String.format("%s listening on %s:%d (%d loop%s, %s, %s)", what,
                hostText(group.address().getAddress()), group.port(), cpus.length, cpus.length == 1 ? "" : "s",
                placement(cpus, group.plannedAround()), group.transport().label());
        return UntilStopped.serve(what, ready + MetricsEndpoint.readySuffix(metrics),
                MetricsEndpoint.closing(group, metrics), out, err);
    }
}
