package dev.keel.cli;

import dev.keel.ffm.SyscallException;
import dev.keel.io.DatagramEndpoint;
import dev.keel.io.DatagramHandler;
import dev.keel.io.DatagramOptions;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;

/**
 * {@code keel udp-echo}: a UDP echo server on keel's reactors, one SO_REUSEPORT datagram
 * endpoint per loop, every datagram sent back to its sender in batches.
 */
final class UdpEchoCommand implements Command {
    private static final String HELP = """
            usage: keel udp-echo [--port 7000] [--host 127.0.0.1] [--loops N|auto] [--cpus LIST]
                                 [--transport epoll|io_uring|auto] [--batch N] [--max-datagram BYTES]
                                 [--busy-poll MICROS] [--sqpoll IDLE_MS]

            Sends every UDP datagram back to its sender, over N event loops sharing the port by
            SO_REUSEPORT (the kernel spreads senders over them), each pinned to one CPU of LIST,
            else to the CPUs of the core plan. Datagrams travel in batches: recvmmsg/sendmmsg on
            epoll, multishot recvmsg and sendmsg SQEs in one io_uring_enter per pass on io_uring.
              --port N            UDP port to bind (default 7000; 0 picks a free one)
              --host ADDR         address to bind (default 127.0.0.1; 0.0.0.0 or :: for every interface)
              --loops N           event loops (default: one per CPU of --cpus, else 1); auto: one
                                  per free usable core, within the cgroup's CPU quota
              --cpus LIST         CPUs to pin the loops to, one per loop
              --transport T       epoll (default), io_uring, or auto
              --batch N           datagrams per recvmmsg/sendmmsg (default 32, at most 1024)
              --max-datagram B    largest datagram echoed whole (default 2048); longer ones are
                                  counted as truncated and echoed cut
            """ + ServerSettings.LOOP_HELP + """
            Prints one line when ready; SIGINT or SIGTERM stops it cleanly.
            """;

    /** Echoes a datagram to its sender; a full send queue drops it (counted by the loop). */
    static final DatagramHandler ECHO = (endpoint, d) -> endpoint.reply(d, d.payload(), 0, d.length());

    @Override
    public String name() {
        return "udp-echo";
    }

    @Override
    public String summary() {
        return "UDP echo server on keel's event loops";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) {
        CommandOptions args = CommandOptions.parse(argv,
                Set.of("port", "host", "loops", "cpus", "transport", "batch", "max-datagram", "busy-poll", "sqpoll"),
                Set.of("help"));
        if (args.flag("help")) {
            out.print(HELP);
            return Keel.EXIT_OK;
        }
        ServerSettings settings = ServerSettings.from(args, 7000);
        DatagramOptions datagrams;
        try {
            datagrams = DatagramOptions.builder()
                    .batchSize(args.integer("batch", 32, 1, DatagramOptions.Builder.MAX_BATCH))
                    .maxDatagramSize(args.integer("max-datagram", 2048, 1, DatagramOptions.Builder.MAX_DATAGRAM))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        LoopOptions.Builder options = settings.loopOptions(args, LoopOptions.builder());
        EventLoopGroup group;
        List<DatagramEndpoint> endpoints;
        try {
            group = settings.apply(EventLoopGroup.builder()).withoutListener()
                    .options(options.build())
                    .start();
        } catch (SyscallException | IllegalStateException e) {
            err.println("keel udp-echo: " + e.getMessage());
            return Keel.EXIT_FAILURE;
        }
        try {
            endpoints = group.openDatagrams(new InetSocketAddress(settings.host(), settings.port()), datagrams,
                    i -> ECHO);
        } catch (SyscallException | IllegalStateException e) {
            group.close();
            err.println("keel udp-echo: " + e.getMessage());
            return Keel.EXIT_FAILURE;
        }
        ServerSettings.warn("keel udp-echo", group, settings.loopsWhy(), err);
        int[] cpus = group.cpus();
        int loops = group.loops().size();
        String ready = String.format("keel udp-echo listening on %s:%d (udp, %d loop%s, %s, %s)",
                settings.host().getHostAddress(), endpoints.get(0).localPort(), loops,
                loops == 1 ? "" : "s", ServerSettings.placement(cpus, group.plannedAround()),
                group.transport().label());
        return UntilStopped.serve("keel udp-echo", ready, group, out, err);
    }
}
