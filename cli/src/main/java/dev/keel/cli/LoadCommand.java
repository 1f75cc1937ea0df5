package dev.keel.cli;

import dev.keel.ffm.SyscallException;
import dev.keel.io.DatagramOptions;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code keel load}: an echo load client on keel's own client side (outbound connections of
 * pinned event loops, or with {@code --udp} datagram endpoints connected to the server). Every
 * byte that comes back is checked against what was sent; latency percentiles come from an
 * HdrHistogram-style recorder ({@link LatencyHistogram}); {@code --rate} paces requests on a
 * schedule and measures from when each was due, so that a server that stalls is charged for the
 * requests it held back (coordinated omission).
 */
final class LoadCommand implements Command {
    static final String HELP = """
            usage: keel load --port P [--host 127.0.0.1] [--connections 1] [--depth 1] [--size 64]
                             [--duration 10s] [--rate R] [--json] [--loops N|auto] [--cpus LIST]
                             [--transport epoll|io_uring|auto] [--udp]

            Drives an echo server (keel echo, keel udp-echo, native/echo) and reports requests
            per second and latency percentiles. Every byte echoed is checked against what was sent.
              --port P          the server's port (required)
              --host ADDR       the server's address (default 127.0.0.1; IPv6 too: ::1)
              --connections N   connections, spread over the loops (default 1)
              --depth D         requests in flight per connection (default 1: ping-pong)
              --size S          bytes per request (default 64)
              --duration T      how long to measure: 500ms, 10s, 2m (default 10s)
              --rate R          requests per second over all connections, paced on a schedule;
                                latency counts from when each request was due (corrected for
                                coordinated omission). Without it, each connection sends its
                                next request as soon as an answer arrives (closed loop).
              --json            print the result as JSON
              --loops N|auto    client event loops (default 1, or one per --cpus CPU)
              --cpus LIST       CPUs for the loops, e.g. 2,3 (default: the core plan, like the servers)
              --transport T     epoll (default), io_uring, or auto
              --udp             datagrams instead of TCP (against keel udp-echo): each connection
                                is a UDP endpoint connected to the server (at most 64 per loop),
                                a request one datagram of --size bytes (8 to 65507); a datagram
                                without its echo after 500 ms counts as lost, and its slot is
                                used again. Lost, late and dropped datagrams are reported.
            Exits 0 when every byte came back as sent, 1 otherwise (the first failure on stderr);
            lost datagrams are reported, not failures.
            """;

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)?");

    @Override
    public String name() {
        return "load";
    }

    @Override
    public String summary() {
        return "echo load client: req/s and latency percentiles, every byte checked";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) {
        CommandOptions args = CommandOptions.parse(argv,
                Set.of("port", "host", "connections", "depth", "size", "duration", "rate", "loops", "cpus",
                        "transport"), Set.of("help", "json", "udp"));
        if (args.flag("help")) {
            out.print(HELP);
            return Keel.EXIT_OK;
        }
        if (!args.has("port")) {
            throw new UsageException("--port is required: the echo server's port");
        }
        ServerSettings where = ServerSettings.from(args, 0);
        if (where.port() == 0) {
            throw new UsageException("--port: 0 is no server's port");
        }
        boolean udp = args.flag("udp");
        int size = udp ? args.integer("size", 64, UdpLoadFlow.HEADER, DatagramOptions.Builder.MAX_DATAGRAM)
                : args.integer("size", 64, 1, 1 << 20);
        LoadRun.Settings settings = new LoadRun.Settings(new InetSocketAddress(where.host(), where.port()),
                args.integer("connections", 1, 1, 100_000), args.integer("depth", 1, 1, 4096), size,
                duration(args.value("duration", "10s")), rate(args), where.loops(), where.cpus(), where.transport(),
                udp);
        LoadRun.Result result;
        try {
            result = LoadRun.run(settings);
        } catch (SyscallException | IllegalStateException e) {
            err.println("keel load: " + e.getMessage());
            return Keel.EXIT_FAILURE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("keel load: interrupted");
            return Keel.EXIT_FAILURE;
        }
        out.print(args.flag("json") ? Json.write(json(result)) : text(result));
        if (result.errors() > 0) {
            err.println("keel load: " + result.errors() + " failure" + (result.errors() == 1 ? "" : "s") + "; first: "
                    + result.firstError());
            return Keel.EXIT_FAILURE;
        }
        return Keel.EXIT_OK;
    }

    /** {@code 500ms}, {@code 10s}, {@code 2m}, or plain seconds. */
    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            throw new UsageException("--duration: '" + text + "' is not a duration such as 500ms, 10s or 2m");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.isZero() || d.compareTo(Duration.ofHours(24)) > 0) {
            throw new UsageException("--duration: must be more than 0 and at most 24h: " + text);
        }
        return d;
    }

    private static long rate(CommandOptions args) {
        if (!args.has("rate")) {
            return 0;
        }
        return args.integer("rate", 0, 1, 100_000_000);
    }

    static Map<String, Object> json(LoadRun.Result r) {
        LoadRun.Settings s = r.settings();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("server", s.remote().getAddress().getHostAddress() + ":" + s.remote().getPort());
        m.put("protocol", s.udp() ? "udp" : "tcp");
        m.put("connections", s.connections());
        m.put("depth", s.depth());
        m.put("size", s.size());
        m.put("mode", s.rate() > 0 ? "fixed-rate" : "closed-loop");
        m.put("rate", s.rate() > 0 ? s.rate() : null);
        m.put("transport", r.transport().label());
        m.put("cpus", java.util.Arrays.stream(r.cpus()).boxed().toList());
        m.put("seconds", r.elapsedNanos() / 1e9);
        m.put("requests", r.requests());
        m.put("requests_per_second", Math.round(r.requestsPerSecond()));
        m.put("bytes_checked", r.bytesChecked());
        m.put("errors", r.errors());
        if (s.udp()) {
            m.put("lost", r.lost());
            m.put("late", r.late());
            m.put("dropped", r.dropped());
        }
        Map<String, Object> latency = new LinkedHashMap<>();
        LatencyHistogram h = r.latency();
        latency.put("p50", micros(h.percentile(50)));
        latency.put("p90", micros(h.percentile(90)));
        latency.put("p99", micros(h.percentile(99)));
        latency.put("p99_9", micros(h.percentile(99.9)));
        latency.put("max", micros(h.max()));
        m.put("latency_us", latency);
        return m;
    }

    private static Double micros(long nanos) {
        return Math.round(nanos / 10.0) / 100.0;
    }

    static String text(LoadRun.Result r) {
        LoadRun.Settings s = r.settings();
        LatencyHistogram h = r.latency();
        String udp = s.udp() ? String.format(Locale.ROOT, "datagrams lost %d, late %d, dropped %d%n", r.lost(),
                r.late(), r.dropped()) : "";
        return String.format(Locale.ROOT, """
                keel load: %s, %d %s x depth %d, %d-byte requests, %.1f s, %s (%s, %s)
                requests %d (%d req/s), %d bytes checked, %d error%s
                latency us: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f
                """, ServerSettings.hostText(s.remote().getAddress()) + ":" + s.remote().getPort(), s.connections(),
                (s.udp() ? "udp flow" : "connection") + (s.connections() == 1 ? "" : "s"), s.depth(), s.size(),
                r.elapsedNanos() / 1e9,
                s.rate() > 0 ? "fixed rate " + s.rate() + " req/s" : "closed loop", r.transport().label(),
                ServerSettings.placement(r.cpus()), r.requests(), Math.round(r.requestsPerSecond()), r.bytesChecked(),
                r.errors(), r.errors() == 1 ? "" : "s",
                micros(h.percentile(50)), micros(h.percentile(90)),
                micros(h.percentile(99)), micros(h.percentile(99.9)), micros(h.max())) + udp;
    }
}
