package dev.keel.cli;

import dev.keel.zerocopy.http.FileServer;
import dev.keel.zerocopy.http.MetricsServer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code keel serve}: the zero-copy static file server on a directory, until SIGINT/SIGTERM.
 *
 * <pre>
 * keel serve [--root DIR] [--port 8080] [--host 127.0.0.1] [--loops N|auto] [--cpus LIST]
 *            [--transport epoll|io_uring|auto] [--access-log FILE] [--refuse-symlinks] [--splice] [--small-files BYTES]
 *            [--header-timeout SECONDS] [--idle-timeout SECONDS] [--open-files N] [--open-file-validity MS]
 *            [--metrics-port P] [--metrics-address ADDR]
 * </pre>
 * Prints one line with the URL, the root and the CPUs of the loops once it listens.
 */
final class ServeCommand implements Command {
    static final String USAGE = """
            usage: keel serve [--root DIR] [--port 8080] [--host ADDR] [--loops N|auto] [--cpus LIST]
                              [--transport epoll|io_uring|auto] [--access-log FILE] [--refuse-symlinks]
                              [--splice] [--small-files BYTES] [--header-timeout S] [--idle-timeout S]
                              [--open-files N] [--open-file-validity MS] [--busy-poll US] [--sqpoll MS]
                              [--metrics-port P] [--metrics-address ADDR]

            Serves the files under DIR (default: the current directory) over HTTP/1.1 with
            sendfile: GET and HEAD, keep-alive, Range, ETag/Last-Modified, index.html.
              --root DIR          directory to serve; it must exist and be readable
              --port P            TCP port (default 8080; 0 picks a free one)
              --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 for all)
              --loops N           event loops (default: one per CPU given, else 1); auto: one per
                                  free usable core, within the cgroup's CPU quota
              --cpus LIST         pin loop i to the i-th CPU of LIST, e.g. 0-1 or 2,3 (default:
                                  the core plan, around CPUs other keel processes reserved; a
                                  reserved CPU given here is used anyway, with a warning)
              --transport T       epoll (default), io_uring, or auto (io_uring where the kernel
                                  and seccomp allow it, else epoll with one log line saying why);
                                  on io_uring heads go through the ring, bodies still by sendfile
              --access-log FILE   log requests to FILE, asynchronously (default: no log)
              --refuse-symlinks   refuse every symlink, not only those leaving DIR
              --splice            send bodies with splice(2) through a pipe instead of sendfile(2)
              --small-files BYTES files up to this size are kept in memory and sent with their
                                  head in one writev(2) (default 8192; 0: always sendfile)
              --header-timeout S  a request head must arrive whole within S seconds of its
                                  first byte, else 408 and close (default 10; 0: off)
              --idle-timeout S    close a connection with no byte moving for S seconds (default 60)
              --open-files N      files each loop keeps open (default 1024; 0: none): with no
                                  download in progress the server holds at most N descriptors
                                  of served files per loop
              --open-file-validity MS
                                  a kept file is checked again (replaced? changed? gone?) on
                                  the first request MS milliseconds after the last check
                                  (default 1000): a changed file may be answered with its old
                                  content for that long; 0 checks on every request
            """ + ServerSettings.LOOP_HELP + MetricsEndpoint.HELP + """
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM.
            """;
    private static final Set<String> VALUED = Set.of("root", "port", "host", "loops", "cpus", "transport", "access-log",
            "small-files", "header-timeout", "idle-timeout", "open-files", "open-file-validity", "metrics-port",
            "metrics-address", "busy-poll", "sqpoll");
    private static final Set<String> FLAGS = Set.of("refuse-symlinks", "splice", "help");

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "serve a directory over HTTP/1.1 with sendfile (zero copy)";
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        CommandOptions o = CommandOptions.parse(args, VALUED, FLAGS);
        if (o.flag("help")) {
            out.print(USAGE);
            return Keel.EXIT_OK;
        }
        MetricsEndpoint endpoint = MetricsEndpoint.from(o);
        ServerSettings settings = ServerSettings.from(o, 8080);
        FileServer server = start(o, settings);
        ServerSettings.warn("keel serve", server.group(), settings.loopsWhy(), err);
        MetricsServer metrics = endpoint == null ? null : endpoint.start(server.group(), server);
        return UntilStopped.serve("keel serve", readyLine(server) + MetricsEndpoint.readySuffix(metrics),
                MetricsEndpoint.closing(server, metrics), out, err);
    }

    /** Checks the options and starts the server; a bad value is a {@link UsageException}. */
    static FileServer start(CommandOptions o) {
        return start(o, ServerSettings.from(o, 8080));
    }

    private static FileServer start(CommandOptions o, ServerSettings settings) {
        FileServer.Builder b = FileServer.builder()
                .root(Path.of(o.value("root", ".")))
                .host(settings.host())
                .port(settings.port())
                .loops(settings.loops())
                .transport(settings.transport())
                .refuseSymlinks(o.flag("refuse-symlinks"))
                .splice(o.flag("splice"), 0)
                .smallFiles(o.integer("small-files", 8 * 1024, 0, 16 * 1024 * 1024), 32L * 1024 * 1024)
                .headerTimeout(Duration.ofSeconds(o.integer("header-timeout", 10, 0, 3600)))
                .options(settings.loopOptions(o, FileServer.loopOptions()).build())
                .fileCache(o.integer("open-files", 1024, 0, 1 << 20),
                        Duration.ofMillis(o.integer("open-file-validity", 1000, 0, 86_400_000)));
        if (settings.cpus().length > 0) {
            b.cpus(settings.cpus());
        }
        if (o.has("access-log")) {
            b.accessLog(Path.of(o.value("access-log", "")));
        }
        try {
            return b.start();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage()); // root missing or unreadable
        } catch (dev.keel.ffm.SyscallException e) {
            throw new UsageException("cannot listen: " + e.getMessage());
        }
    }

    static String readyLine(FileServer server) {
        String host = ServerSettings.hostText(server.address().getAddress());
        int[] cpus = server.cpus();
        return "keel serve: http://" + host + ":" + server.port() + "/ serving " + server.root() + " with "
                + cpus.length + (cpus.length == 1 ? " loop " : " loops ")
                + ServerSettings.placement(cpus, server.group().plannedAround())
                + " (" + server.transport().label() + ", " + (server.usesOpenat2() ? "openat2" : "O_NOFOLLOW walk") + ")";
    }
}
