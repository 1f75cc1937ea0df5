package dev.keel.cli;

import dev.keel.affinity.Cpu;
import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.Transport;

import java.io.PrintStream;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * What every keel server command shares: --host, --port, --loops, --cpus and --transport,
 * checked before anything binds, and the wait for SIGINT/SIGTERM.
 */
record ServerSettings(InetAddress host, int port, int loops, int[] cpus, Transport transport) {

    static ServerSettings from(Args args, int defaultPort) {
        InetAddress host = EchoCommand.host(args.value("host", "127.0.0.1"));
        int port = args.intValue("port", defaultPort, 0, 65535);
        int[] cpus = args.has("cpus") ? cpus(args.value("cpus", "")) : new int[0];
        int loops = args.intValue("loops", cpus.length == 0 ? 1 : cpus.length, 1, 1024);
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
        return new ServerSettings(host, port, loops, cpus, transport);
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

    /** Prints the ready line, then blocks until a signal closes {@code group}. */
    static int serveUntilSignalled(EventLoopGroup group, String what, PrintStream out) {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            group.close();
            stopped.countDown();
        }, "keel-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        int[] cpus = group.cpus();
        String placement = Arrays.stream(cpus).allMatch(c -> c < 0) ? "unpinned"
                : "on CPUs " + Arrays.stream(cpus).mapToObj(Integer::toString).collect(Collectors.joining(","));
        out.printf("%s listening on %s:%d (%d loop%s, %s, %s)%n", what, group.address().getAddress().getHostAddress(),
                group.port(), cpus.length, cpus.length == 1 ? "" : "s", placement, group.transport().label());
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Keel.EXIT_OK;
    }
}
