package dev.keel.bench.echo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Turns the JSON lines of one echo-bench.sh run into BENCH-ECHO.md (machine, method, the
 * targets of issue 3, one table per scenario with medians and ratios to C epoll, the sweep,
 * memory per idle connection) and into the data files bench/echo-plot.gp draws. The echo
 * matrix's block of an earlier BENCH-ECHO.md (see {@link EchoMatrixReport}) is kept.
 *
 * <p>{@code EchoReport RESULTS.jsonl OUT.md PLOT_DATA_DIR PNG_LINK [NOTES.md]}
 */
public final class EchoReport {
    private final EchoResults r;
    private final StringBuilder md = new StringBuilder();

    EchoReport(EchoResults r) {
        this.r = r;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 4) {
            System.err.println("usage: EchoReport RESULTS.jsonl OUT.md PLOT_DATA_DIR PNG_LINK [NOTES.md]");
            System.exit(2);
        }
        Path results = Path.of(args[0]);
        EchoResults r = EchoResults.read(results);
        EchoReport report = new EchoReport(r);
        String notes = args.length > 4 && Files.exists(Path.of(args[4])) ? Files.readString(Path.of(args[4])) : null;
        Path out = Path.of(args[1]);
        String matrix = EchoMatrixReport.keptBlock(out);
        Files.writeString(out, report.markdown(results.toString(), args[3], notes, matrix));
        EchoPlotData.write(r, Path.of(args[2]));
    }

    static String label(String scenario) {
        return switch (scenario) {
            case "pingpong" -> "ping-pong: 1 connection x 1 in flight x 64 B";
            case "64x16" -> "64 connections x 16 in flight x 64 B";
            case "16k" -> "16 connections x 4 in flight x 16 KiB";
            case EchoResults.IDLE -> "10,000 idle connections (RSS)";
            default -> scenario.startsWith("sweep-")
                    ? String.format("%,d connections x 1 in flight x 64 B", Integer.parseInt(scenario.substring(6)))
                    : scenario;
        };
    }

    /** 2,129,328 -> "2.13 M"; 39,236 -> "39.2 k"; small values as they are. */
    static String amount(double v) {
        if (v >= 1e6) {
            return String.format("%.2f M", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format("%.1f k", v / 1e3);
        }
        return v >= 100 ? String.format("%.0f", v) : String.format("%.1f", v);
    }

    private String markdown(String resultsPath, String png, String notes, String matrix) {
        line("# Echo benchmark: keel beside C epoll, Netty 4.2 and JDK NIO");
        line("");
        line("Run " + r.meta("date") + " by `bench/echo-bench.sh` (`make bench-echo`)" + ("1".equals(r.meta("quick"))
                ? ", **QUICK mode: one short round, indicative only**" : "") + ". Raw results: `"
                + Path.of(resultsPath).getFileName() + "` in `bench/results/`. This file is written by the script; "
                + "the notes at the end come from `bench/echo-notes.md`.");
        line("");
        machine();
        method();
        targets();
        line("## Results");
        line("");
        line("Medians over rounds; `vs C` is the server's median over C epoll's (for latency and CPU lower is "
                + "better, for req/s higher). `rounds` counts rounds that passed; a failed round (server died, "
                + "load error, any corrupted byte) is listed and never averaged in.");
        line("");
        for (String s : r.scenarios()) {
            if (!s.equals(EchoResults.IDLE) && !s.startsWith("sweep-")) {
                scenario(s);
            }
        }
        sweep();
        idle(EchoResults.IDLE);
        logs();
        line("## Plot");
        line("");
        line("![req/s relative to C epoll and p99 latency per scenario](" + png + ")");
        line("");
        md.append(matrix);
        line("");
        if (notes != null) {
            md.append(notes.strip()).append('\n');
        }
        return md.toString();
    }

    private void machine() {
        line("## Machine");
        line("");
        line("- CPU: " + r.meta("cpu_model").strip() + "; " + r.meta("cpus") + " CPUs, " + r.meta("threads_per_core")
                + " thread(s) per core, " + r.meta("numa_nodes") + " NUMA node(s); hypervisor: " + r.meta("hypervisor").strip());
        line("- Kernel " + r.meta("kernel") + "; " + r.meta("jdk") + "; Netty " + r.meta("netty") + "; " + r.meta("cc").strip());
        line("- Memory " + r.meta("mem") + "; load average at the start " + r.meta("loadavg"));
        StringBuilder noise = new StringBuilder();
        for (String s : r.servers()) {
            OptionalDouble n = r.noise(s);
            if (n.isPresent()) {
                noise.append(noise.isEmpty() ? "" : ", ").append(s).append(' ').append(String.format("%.0f%%", 100 * n.getAsDouble()));
            }
        }
        line("- Other work on the server's or the load generator's CPU during the timed runs the medians use "
                + "(median share per server; this VM is shared with other jobs): " + noise);
        line("");
    }

    private void method() {
        line("## Method");
        line("");
        line("- Every server runs pinned to CPU " + r.meta("server_cpu") + " (`taskset`, the whole process; keel also with `--cpus "
                + r.meta("server_cpu") + "`), one event loop, TCP_NODELAY, on 127.0.0.1. The load generator "
                + "(`native/echo/echo_load.c`) runs pinned to CPU " + r.meta("load_cpu") + ".");
        line("- echo_load is closed-loop: N connections each keep D requests of S bytes in flight, and sends the next "
                + "as each echo completes. It checks every byte that comes back and records each round trip in a "
                + "log-linear histogram (HdrHistogram buckets, < 1.6% error).");
        line("- Servers: `c-epoll` (`native/echo/c_epoll_echo.c`, level-triggered, read then write, the baseline), "
                + "`keel-epoll` (`bin/keel echo`), `netty-epoll` and `netty-io_uring` (Netty " + r.meta("netty")
                + ", one `MultiThreadIoEventLoopGroup` loop, Netty's echo handler, default allocator and ring "
                + "settings), `jdk-nio` (one Selector thread, direct buffers), `c-io_uring` (`native/echo/c_uring_echo.c`: "
                + "multishot accept, one recv then one send per connection into its own 64 KiB buffer, "
                + "SINGLE_ISSUER + DEFER_TASKRUN, no liburing; the reference for issue 4). `+busy` rows spin on epoll_wait(0) for "
                + r.meta("busy_poll_us") + " µs before blocking (`c_epoll_echo PORT " + r.meta("busy_poll_us")
                + "`, `keel echo --busy-poll " + r.meta("busy_poll_us") + "`); they run ping-pong only. "
                + "The JVMs run with default flags (`" + r.meta("java_opts") + "`); pinned to one CPU, the JVM picks "
                + "the Serial GC and one compiler thread of each kind, all on the server's CPU.");
        line("- Each server starts fresh in every round and is primed for " + r.meta("prime_s") + " s (64x16, then "
                + "16 KiB) before anything is recorded, so the JIT has compiled the echo path. Then: RSS per idle "
                + "connection, then each scenario with " + r.meta("warmup_s") + " s warm-up and a " + r.meta("duration_s")
                + " s timed run. Rounds: " + r.meta("rounds") + ", interleaved (every server once per round, in turn).");
        line("- RSS per idle connection: VmRSS of the server before and " + r.meta("settle_s") + " s after it has accepted "
                + "10,000 connections that sent nothing (its socket count checked in /proc/PID/fd), divided by 10,000. "
                + "Then one 64-byte echo on each, every byte checked, and VmRSS again (`after echo`). Kernel socket "
                + "buffers are not in RSS for any server.");
        line("- Server CPU per request: user + system time of the whole server process (all threads) from "
                + "/proc/PID/stat over the timed run, divided by the requests completed. Resolution 10 ms.");
        line("- The VM is shared with other jobs. Before each timed run the script waits (up to " + r.meta("quiet_wait_s")
                + " s) for both CPUs to be under " + r.meta(r.meta().containsKey("quiet_max_pct") ? "quiet_max_pct" : "noise_max_pct")
                + "% busy; a timed run in which other work "
                + "took too much of the server's CPU is run again (up to " + r.meta("retries") + " times; the first "
                + "tries are kept in the raw file as `discarded`). The report leaves out of the medians every run in "
                + "which other work took more than " + Math.round(100 * EchoResults.NOISE_MAX) + "% of the server's or "
                + "the load generator's CPU (`other_cpu_s`, `load_other_cpu_s`: that CPU's busy time not charged to the "
                + "server, or to echo_load; under 10% when the machine is quiet) and says so in `rounds`; a cell with "
                + "only such runs keeps them and is marked.");
        line("");
    }

    private void targets() {
        line("## Where keel stands: the targets of issue 3");
        line("");
        line("| target | keel-epoll | reference | ratio | verdict |");
        line("|---|---|---|---|---|");
        for (EchoTargets.Row t : EchoTargets.evaluate(r)) {
            line("| " + t.target() + " | " + t.keel() + " | " + t.reference() + " | " + t.ratio() + " | " + t.verdict() + " |");
        }
        line("");
    }

    private void scenario(String s) {
        line("### " + label(s));
        line("");
        boolean bulk = s.equals("16k");
        line("| server | req/s | vs C |" + (bulk ? " MB/s |" : "") + " p50 µs | vs C | p90 µs | p99 µs | vs C | p99.9 µs "
                + "| max µs | CPU µs/req | vs C | rounds |");
        line("|---|--:|--:|" + (bulk ? "--:|" : "") + "--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        for (String server : r.servers()) {
            if (!r.has(server, s)) {
                continue;
            }
            List<String> cells = new ArrayList<>();
            cells.add(server);
            cells.add(median(server, s, "rps", true) + spread(server, s, "rps"));
            cells.add(vsC(server, s, "rps"));
            if (bulk) {
                cells.add(median(server, s, "mbps", true));
            }
            cells.add(median(server, s, "p50_us", false));
            cells.add(vsC(server, s, "p50_us"));
            cells.add(median(server, s, "p90_us", false));
            cells.add(median(server, s, "p99_us", false));
            cells.add(vsC(server, s, "p99_us"));
            cells.add(median(server, s, "p999_us", false));
            cells.add(median(server, s, "max_us", false));
            cells.add(r.median(server, s, "cpu_us_per_req").isPresent()
                    ? String.format("%.2f", r.median(server, s, "cpu_us_per_req").getAsDouble()) : "-");
            cells.add(vsC(server, s, "cpu_us_per_req"));
            cells.add(rounds(server, s));
            line("| " + String.join(" | ", cells) + " |");
        }
        line("");
    }

    private void sweep() {
        List<String> sweeps = r.scenarios().stream().filter(s -> s.startsWith("sweep-")).toList();
        if (sweeps.isEmpty()) {
            return;
        }
        line("### Connection sweep: req/s at 64 B, 1 request in flight per connection");
        line("");
        StringBuilder head = new StringBuilder("| server |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String s : sweeps) {
            head.append(String.format(" %,d conns |", Integer.parseInt(s.substring(6))));
            rule.append("--:|");
        }
        line(head + " 10,000 vs 100 | p99 µs at 10,000 | CPU µs/req at 10,000 | rounds |");
        line(rule + "--:|--:|--:|---|");
        for (String server : r.servers()) {
            if (sweeps.stream().noneMatch(s -> r.has(server, s))) {
                continue;
            }
            StringBuilder row = new StringBuilder("| " + server + " |");
            for (String s : sweeps) {
                String vs = vsC(server, s, "rps");
                row.append(' ').append(median(server, s, "rps", true)).append(vs.equals("-") ? "" : " (" + vs + ")").append(" |");
            }
            OptionalDouble a = r.median(server, "sweep-100", "rps");
            OptionalDouble b = r.median(server, "sweep-10000", "rps");
            row.append(' ').append(a.isPresent() && b.isPresent() ? EchoTargets.ratio(b.getAsDouble() / a.getAsDouble()) : "-");
            row.append(" | ").append(median(server, "sweep-10000", "p99_us", false));
            OptionalDouble cpu = r.median(server, "sweep-10000", "cpu_us_per_req");
            row.append(" | ").append(cpu.isPresent() ? String.format("%.2f", cpu.getAsDouble()) : "-");
            int ok = sweeps.stream().mapToInt(s -> r.ok(server, s).size()).min().orElse(0);
            row.append(" | ").append(ok).append(sweeps.stream().anyMatch(s -> r.failed(server, s) > 0) ? " (some failed)" : "")
                    .append(" |");
            line(row.toString());
        }
        line("");
        line("Cells show the median and, in parentheses, the ratio to C epoll at the same count.");
        line("");
    }

    /** The table of RSS per idle connection of scenario {@code idle-N}. */
    void idle(String idle) {
        if (!r.scenarios().contains(idle)) {
            return;
        }
        String count = String.format("%,d", Integer.parseInt(idle.substring(idle.indexOf('-') + 1)));
        line("### Memory per idle connection (" + count + " connections)");
        line("");
        line("| server | RSS before MiB | RSS with " + count + " idle MiB | bytes per idle connection"
                + " | bytes per connection after one echo each | rounds |");
        line("|---|--:|--:|--:|--:|---|");
        for (String server : r.servers()) {
            if (!r.has(server, idle)) {
                continue;
            }
            line("| " + server + " | " + mib(server, idle, "rss_before_kib") + " | " + mib(server, idle, "rss_after_kib")
                    + " | " + bytes(server, idle, "rss_per_conn_bytes") + " | "
                    + bytes(server, idle, "rss_per_conn_after_echo_bytes") + " | " + rounds(server, idle) + " |");
        }
        line("");
    }

    private void logs() {
        List<String> logs = r.logs();
        if (logs.isEmpty()) {
            return;
        }
        line("### What the servers wrote on stderr");
        line("");
        line("Counted lines, most frequent first (truncated):");
        line("");
        for (String l : logs) {
            line("- " + l.replace("|", "\\|"));
        }
        line("");
    }

    private String mib(String server, String idle, String metric) {
        OptionalDouble v = r.median(server, idle, metric);
        return v.isPresent() ? String.format("%.1f", v.getAsDouble() / 1024) : "-";
    }

    private String bytes(String server, String idle, String metric) {
        // The per-connection figures may be negative (RSS can shrink); median over every round that passed.
        double[] v = r.ok(server, idle).stream().map(m -> m.get(metric)).filter(x -> x instanceof Double)
                .mapToDouble(x -> (Double) x).sorted().toArray();
        if (v.length == 0) {
            return "-";
        }
        double m = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return String.format("%.0f", m) + (v.length > 1 ? String.format(" (%.0f-%.0f)", v[0], v[v.length - 1]) : "");
    }

    String median(String server, String s, String metric, boolean amount) {
        OptionalDouble v = r.median(server, s, metric);
        if (v.isEmpty()) {
            return r.failed(server, s) > 0 ? "failed" : "-";
        }
        return amount ? amount(v.getAsDouble()) : String.format("%.1f", v.getAsDouble());
    }

    private String spread(String server, String s, String metric) {
        OptionalDouble lo = r.min(server, s, metric);
        OptionalDouble hi = r.max(server, s, metric);
        if (lo.isEmpty() || r.ok(server, s).size() < 2) {
            return "";
        }
        return " <sub>" + amount(lo.getAsDouble()) + "-" + amount(hi.getAsDouble()) + "</sub>";
    }

    String vsC(String server, String s, String metric) {
        OptionalDouble v = r.median(server, s, metric);
        OptionalDouble c = r.median(EchoTargets.C, s, metric);
        if (v.isEmpty() || c.isEmpty() || c.getAsDouble() <= 0) {
            return "-";
        }
        return EchoTargets.ratio(v.getAsDouble() / c.getAsDouble());
    }

    String rounds(String server, String s) {
        int ok = r.ok(server, s).size();
        int failed = r.failed(server, s);
        int discarded = r.discarded(server, s);
        String out = Integer.toString(ok);
        if (r.onlyNoisy(server, s)) {
            out += " (all noisy: other work took the CPU)";
        } else if (r.noisy(server, s) > 0) {
            out += " (+" + r.noisy(server, s) + " noisy, left out)";
        }
        if (failed > 0) {
            out += ", **" + failed + " failed**: " + r.failure(server, s);
        }
        if (discarded > 0) {
            out += ", " + discarded + " re-run (noise)";
        }
        return out;
    }

    void line(String s) {
        md.append(s).append('\n');
    }

    /** What the report has written so far. */
    String text() {
        return md.toString();
    }
}
