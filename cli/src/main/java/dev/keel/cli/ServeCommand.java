package dev.keel.cli;

import dev.keel.zerocopy.http.FileServer;
import dev.keel.zerocopy.http.MetricsServer;
import dev.keel.zerocopy.tls.TlsContext;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code keel serve}: the zero-copy static file server on a directory, until SIGINT/SIGTERM.
 *
 * <pre>
 * keel serve [--root DIR] [--port 8080] [--host 127.0.0.1] [--loops N|auto] [--cpus LIST]
 *            [--transport epoll|io_uring|auto] [--access-log FILE] [--refuse-symlinks] [--small-files BYTES]
 *            [--header-timeout SECONDS] [--idle-timeout SECONDS] [--open-files N] [--open-file-validity MS]
 *            [--metrics-port P] [--metrics-address ADDR] [--tls-cert FILE --tls-key FILE [--tls-port P]]
 *            [--precompressed] [--read-ahead N]
 * </pre>
 * Prints one line with the URL, the root and the CPUs of the loops once it listens.
 */
final class ServeCommand implements Command {
    static final String USAGE = """
            usage: keel serve [--root DIR] [--port 8080] [--host ADDR] [--loops N|auto] [--cpus LIST]
                              [--transport epoll|io_uring|auto] [--access-log FILE] [--refuse-symlinks]
                              [--small-files BYTES] [--header-timeout S] [--idle-timeout S]
                              [--open-files N] [--open-file-validity MS] [--busy-poll US] [--sqpoll MS]
                              [--metrics-port P] [--metrics-address ADDR] [--precompressed]
                              [--read-ahead N] [--tls-cert FILE --tls-key FILE [--tls-port P]]

            Serves the files under DIR (default: the current directory) over HTTP/1.1, bodies
            never through Java: GET and HEAD, keep-alive, Range, ETag/Last-Modified, index.html.
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
                                  epoll sends bodies with sendfile(2); io_uring with splice
                                  requests in its ring, on direct descriptors (plain ones with
                                  --access-log, which logs peer addresses)
              --access-log FILE   log requests to FILE, asynchronously (default: no log)
              --refuse-symlinks   refuse every symlink, not only those leaving DIR
              --small-files BYTES files up to this size are kept in memory and sent with their
                                  head in one write (default 8192; 0: never)
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
              --precompressed     answer a.css with a.css.br, .zst or .gz when the client's
                                  Accept-Encoding takes it and the variant is not older
                                  (Content-Encoding, Vary, the variant's own ETag; default off)
              --read-ahead N      threads that read cold file chunks into the page cache so a
                                  loop never waits for the disk (default 2; 0: off)
            """ + TlsOptions.HELP + ServerSettings.LOOP_HELP + MetricsEndpoint.HELP + """
            Stops cleanly on SIGINT (Ctrl-C) or SIGTERM.
            """;
    private static final Set<String> VALUED = Set.of("root", "port", "host", "loops", "cpus", "transport", "access-log",
            "small-files", "header-timeout", "idle-timeout", "open-files", "open-file-validity", "metrics-port",
            "metrics-address", "busy-poll", "sqpoll", "read-ahead", "tls-cert", "tls-key", "tls-port");
    private static final Set<String> FLAGS = Set.of("refuse-symlinks", "help", "precompressed");

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "serve a directory over HTTP/1.1 (zero copy: sendfile, or splice in the io_uring ring)";
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
        TlsContext tls = TlsOptions.open(o);
        boolean separateTlsPort = tls != null && o.has("tls-port");
        FileServer server;
        FileServer https = null;
        try {
            server = start(o, settings, separateTlsPort ? null : tls);
            if (separateTlsPort) {
                try {
                    https = start(o, new ServerSettings(settings.host(), o.integer("tls-port", 0, 0, 65535),
                            settings.loops(), settings.cpus(), settings.transport(), settings.loopsWhy()), tls);
                } catch (RuntimeException e) {
                    server.close();
                    throw e;
                }
            }
        } catch (RuntimeException e) {
            if (tls != null) {
                tls.close();
            }
            throw e;
        }
        ServerSettings.warn("keel serve", server.group(), settings.loopsWhy(), err);
        AutoCloseable servers = closing(server, https, tls);
        MetricsServer metrics = null;
        if (endpoint != null) {
            FileServer plain = server;
            FileServer secure = https;
            metrics = endpoint.start(server.group(),
                    () -> TlsOptions.prometheus(tls == null ? null : tls.stats(), plain, secure), servers);
        }
        if (tls != null) {
            TlsOptions.report(tls, err);
            TlsOptions.reloadOnSighup(tls, err);
        }
        String ready = readyLine(server) + (https == null ? "" : "; " + httpsUrl(https));
        return UntilStopped.serve("keel serve", ready + MetricsEndpoint.readySuffix(metrics),
                MetricsEndpoint.closing(servers, metrics), out, err);
    }

    /** Closes the servers, then the TLS context they shared. */
    private static AutoCloseable closing(FileServer server, FileServer https, TlsContext tls) {
        return () -> {
            try {
                if (https != null) {
                    https.close();
                }
            } finally {
                try {
                    server.close();
                } finally {
                    if (tls != null) {
                        tls.close();
                    }
                }
            }
        };
    }

    /** Checks the options and starts the server; a bad value is a {@link UsageException}. */
    static FileServer start(CommandOptions o) {
        return start(o, ServerSettings.from(o, 8080), null);
    }

    private static FileServer start(CommandOptions o, ServerSettings settings, TlsContext tls) {
        int readAhead = o.integer("read-ahead", 2, 0, 64);
        FileServer.Builder b = FileServer.builder()
                .tls(tls)
                .precompressed(o.flag("precompressed"))
                .readAhead(readAhead, readAhead == 0 ? 0 : 256)
                .root(Path.of(o.value("root", ".")))
                .host(settings.host())
                .port(settings.port())
                .loops(settings.loops())
                .transport(settings.transport())
                .refuseSymlinks(o.flag("refuse-symlinks"))
                .smallFiles(o.integer("small-files", 8 * 1024, 0, 16 * 1024 * 1024), 32L * 1024 * 1024)
                .headerTimeout(Duration.ofSeconds(o.integer("header-timeout", 10, 0, 3600)))
                .options(settings.loopOptions(o, FileServer.loopOptions()
                        .directDescriptors(!o.has("access-log"))).build()) // the log wants peer addresses
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

    private static String httpsUrl(FileServer https) {
        String host = https.address().getAddress().getHostAddress();
        return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + https.port() + "/";
    }

    static String readyLine(FileServer server) {
        String host = ServerSettings.hostText(server.address().getAddress());
        int[] cpus = server.cpus();
        return "keel serve: " + (server.tls() != null ? "https" : "http") + "://" + host + ":" + server.port()
                + "/ serving " + server.root() + " with "
                + cpus.length + (cpus.length == 1 ? " loop " : " loops ")
                + ServerSettings.placement(cpus, server.group().plannedAround())
                + " (" + server.transport().label() + ", " + (server.usesOpenat2() ? "openat2" : "O_NOFOLLOW walk") + ")";
    }
}
