package dev.keel.cli;

import dev.keel.ffm.SyscallException;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.zerocopy.http.MetricsServer;

import java.io.PrintStream;
import java.util.Set;

/** {@code keel echo}: a TCP echo server on keel's reactors, the subject of the echo benchmark. */
final class EchoCommand implements Command {
    private static final String HELP = """
            usage: keel echo [--port 7000] [--host 127.0.0.1] [--loops N|auto] [--cpus LIST]
                             [--transport epoll|io_uring|auto] [--busy-poll MICROS] [--sqpoll IDLE_MS]
                             [--max-connections N] [--metrics-port P] [--metrics-address ADDR]

            Echoes every byte back on each TCP connection, over N event loops (one SO_REUSEPORT
            listener each), each pinned to one CPU of LIST (e.g. 0,1 or 2-3), else to the CPUs
            of the core plan (whole cores first) around CPUs other keel processes reserved. The
            loops' CPUs are reserved while it runs (see keel cpus).
              --port N            port to listen on (default 7000; 0 picks a free one)
              --host ADDR         address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
              --loops N           event loops (default: one per CPU of --cpus, else 1); auto: one
                                  per free usable core, within the cgroup's CPU quota
              --cpus LIST         CPUs to pin the loops to, one per loop; a CPU another process
                                  reserved is used anyway, with a warning naming it
              --transport T       epoll (default), io_uring, or auto (io_uring where the kernel
                                  allows it, else epoll with one line saying why)
              --max-connections N connections each loop holds at once (default 16384); the echo
                                  matrix holds 19,000 on one loop
            """ + ServerSettings.LOOP_HELP + MetricsEndpoint.HELP + """
            Prints one line when ready; SIGINT or SIGTERM stops it cleanly.
            """;

    @Override
    public String name() {
        return "echo";
    }

    @Override
    public String summary() {
        return "TCP echo server on keel's event loops";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) {
        CommandOptions args = CommandOptions.parse(argv,
                Set.of("port", "host", "loops", "cpus", "transport", "busy-poll", "sqpoll", "max-connections", "metrics-port",
                        "metrics-address"), Set.of("help"));
        if (args.flag("help")) {
            out.print(HELP);
            return Keel.EXIT_OK;
        }
        ServerSettings settings = ServerSettings.from(args, 7000);
        MetricsEndpoint endpoint = MetricsEndpoint.from(args);
        LoopOptions.Builder options = settings.loopOptions(args, LoopOptions.builder());
        EventLoopGroup group;
        try {
            group = settings.apply(EventLoopGroup.builder())
                    .options(options.build())
                    .handler((connection, data) -> connection.write(data))
                    .start();
        } catch (SyscallException | IllegalStateException e) {
            err.println("keel echo: " + e.getMessage());
            return Keel.EXIT_FAILURE;
        }
        ServerSettings.warn("keel echo", group, settings.loopsWhy(), err);
        MetricsServer metrics = endpoint == null ? null : endpoint.start(group, group);
        return ServerSettings.serveUntilSignalled(group, metrics, "keel echo", out, err);
    }
}
