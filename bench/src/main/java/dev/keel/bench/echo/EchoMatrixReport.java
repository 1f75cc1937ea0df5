package dev.keel.bench.echo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Turns the JSON lines of one {@code MATRIX=1 bench/echo-bench.sh} run (scenarios
 * {@code m-CONNS-SIZE}, one request in flight per connection, and {@code idle-N}) into the
 * "Echo matrix" block of BENCH-ECHO.md: the targets of issue 16 at every point, one table per
 * message size with req/s (MB/s from 16 KiB), p50/p95/p99 and server CPU per request beside
 * C epoll, and RSS per idle connection against the 512 B target; and into one directory of
 * plot data per size for bench/echo-plot.gp.
 *
 * <p>{@code EchoMatrixReport RESULTS.jsonl PLOT_DATA_DIR PNG_PREFIX}: prints the block on
 * standard output; the plot of size S goes to {@code PNG_PREFIX-S.png}.
 */
public final class EchoMatrixReport {
    /** The block's name in BENCH-ECHO.md: {@code <!-- echo-matrix -->} ... {@code <!-- /echo-matrix -->}. */
    static final String BLOCK = "echo-matrix";
    /** Issue 16: RSS per idle connection at most this, on both of keel's transports. */
    static final double IDLE_TARGET_BYTES = 512;
    /** Issue 16: keel's better transport at least this share of C epoll's rate at every point. */
    static final double RATE_TARGET = 0.97;
    private static final List<String> KEEL = List.of("keel-epoll", "keel-io_uring");
    private static final String NETTY = "netty-epoll";

    private final EchoResults r;
    private final EchoReport table;
    /** size in bytes -> the scenarios of that size, in the order of their connection counts. */
    private final Map<Integer, List<String>> bySize = new LinkedHashMap<>();

    private EchoMatrixReport(EchoResults r) {
        this.r = r;
        this.table = new EchoReport(r);
        for (String s : r.scenarios()) {
            if (s.startsWith("m-")) {
                bySize.computeIfAbsent(size(s), k -> new ArrayList<>()).add(s);
            }
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: EchoMatrixReport RESULTS.jsonl PLOT_DATA_DIR PNG_PREFIX");
            System.exit(2);
        }
        System.out.print(render(Path.of(args[0]), Path.of(args[1]), args[2]));
    }

    /** The block of one results file; writes the plot data of every size under {@code plotDir}. */
    static String render(Path results, Path plotDir, String pngPrefix) throws IOException {
        EchoMatrixReport report = new EchoMatrixReport(EchoResults.read(results));
        report.plotData(plotDir);
        return report.markdown(results.getFileName().toString(), pngPrefix);
    }

    /**
     * The echo-matrix block of an existing report, markers included, so that a run of the other
     * scenarios keeps it; a block saying it has not been measured when there is none.
     */
    static String keptBlock(Path report) throws IOException {
        String open = "<!-- " + BLOCK + " -->";
        String close = "<!-- /" + BLOCK + " -->";
        String heading = "## Echo matrix\n\n";
        if (Files.exists(report)) {
            String text = Files.readString(report);
            int from = text.indexOf(open);
            int to = text.indexOf(close);
            if (from >= 0 && to > from) {
                return heading + text.substring(from, to + close.length()) + "\n";
            }
        }
        return heading + open + "\nNot yet measured: `make bench-echo-matrix` writes this section.\n" + close + "\n";
    }

    static int conns(String scenario) {
        return Integer.parseInt(scenario.split("-")[1]);
    }

    static int size(String scenario) {
        return Integer.parseInt(scenario.split("-")[2]);
    }

    static String sizeLabel(int bytes) {
        return bytes >= 1024 && bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
    }

    private String markdown(String resultsFile, String pngPrefix) {
        boolean quick = "1".equals(r.meta("quick"));
        table.line("Run " + r.meta("date") + " by `MATRIX=1 bench/echo-bench.sh` (`make bench-echo-matrix`)"
                + (quick ? ", **QUICK mode: one short round, indicative only**" : "") + ". Raw results: `" + resultsFile
                + "` in `bench/results/`. Servers " + String.join(", ", r.servers()) + " in the same run, each pinned to CPU "
                + r.meta("server_cpu") + ", echo_load to CPU " + r.meta("load_cpu") + "; " + r.meta("rounds")
                + " round(s), every cell " + r.meta("warmup_s") + " s warm-up + " + r.meta("duration_s")
                + " s timed, one request in flight per connection; medians of rounds. Open files per process: "
                + r.meta("nofile") + ". Machine, method and noise rules as above.");
        table.line("");
        targets();
        for (Map.Entry<Integer, List<String>> e : bySize.entrySet()) {
            size(e.getKey(), e.getValue(), pngPrefix);
        }
        String idle = "idle-" + r.meta("idle_conns");
        table.idle(idle);
        idleTarget(idle);
        return table.text();
    }

    /** Issue 16: keel's better transport at least 0.97x C epoll's rate, p99 no worse, above Netty epoll. */
    private void targets() {
        table.line("### Where keel stands at every point (issue 16)");
        table.line("");
        table.line("Target: keel's better transport at least " + RATE_TARGET + "x C epoll's req/s with no worse p99, "
                + "and more req/s than Netty epoll.");
        table.line("");
        table.line("| size | conns | better keel | req/s vs C epoll | p99 vs C epoll | req/s vs Netty epoll | verdict |");
        table.line("|---|--:|---|--:|--:|--:|---|");
        for (List<String> scenarios : bySize.values()) {
            for (String s : scenarios) {
                String best = null;
                for (String k : KEEL) {
                    OptionalDouble v = r.median(k, s, "rps");
                    if (v.isPresent() && (best == null || v.getAsDouble() > r.median(best, s, "rps").getAsDouble())) {
                        best = k;
                    }
                }
                String head = "| " + sizeLabel(size(s)) + " | " + String.format("%,d", conns(s)) + " | ";
                if (best == null) {
                    table.line(head + "- | - | - | - | no keel result |");
                    continue;
                }
                OptionalDouble rate = ratio(best, EchoTargets.C, s, "rps");
                OptionalDouble p99 = ratio(best, EchoTargets.C, s, "p99_us");
                OptionalDouble netty = ratio(best, NETTY, s, "rps");
                String verdict = rate.isEmpty() || p99.isEmpty() || netty.isEmpty() ? "incomplete"
                        : rate.getAsDouble() >= RATE_TARGET && p99.getAsDouble() <= 1 && netty.getAsDouble() > 1 ? "met"
                        : "missed";
                table.line(head + best + " | " + text(rate) + " | " + text(p99) + " | " + text(netty) + " | " + verdict + " |");
            }
        }
        table.line("");
    }

    private OptionalDouble ratio(String server, String reference, String s, String metric) {
        OptionalDouble v = r.median(server, s, metric);
        OptionalDouble ref = r.median(reference, s, metric);
        return v.isPresent() && ref.isPresent() && ref.getAsDouble() > 0
                ? OptionalDouble.of(v.getAsDouble() / ref.getAsDouble()) : OptionalDouble.empty();
    }

    private static String text(OptionalDouble ratio) {
        return ratio.isPresent() ? EchoTargets.ratio(ratio.getAsDouble()) : "-";
    }

    private void size(int size, List<String> scenarios, String pngPrefix) {
        boolean bulk = size >= 16384;
        table.line("### " + sizeLabel(size) + " messages");
        table.line("");
        table.line("| conns | server | req/s | vs C |" + (bulk ? " MB/s |" : "") + " p50 µs | p95 µs | p99 µs | vs C "
                + "| CPU µs/req | vs C | rounds |");
        table.line("|--:|---|--:|--:|" + (bulk ? "--:|" : "") + "--:|--:|--:|--:|--:|--:|---|");
        for (String s : scenarios) {
            for (String server : r.servers()) {
                if (!r.has(server, s)) {
                    continue;
                }
                List<String> cells = new ArrayList<>();
                cells.add(String.format("%,d", conns(s)));
                cells.add(server);
                cells.add(table.median(server, s, "rps", true));
                cells.add(table.vsC(server, s, "rps"));
                if (bulk) {
                    cells.add(table.median(server, s, "mbps", true));
                }
                cells.add(table.median(server, s, "p50_us", false));
                cells.add(table.median(server, s, "p95_us", false));
                cells.add(table.median(server, s, "p99_us", false));
                cells.add(table.vsC(server, s, "p99_us"));
                OptionalDouble cpu = r.median(server, s, "cpu_us_per_req");
                cells.add(cpu.isPresent() ? String.format("%.2f", cpu.getAsDouble()) : "-");
                cells.add(table.vsC(server, s, "cpu_us_per_req"));
                cells.add(table.rounds(server, s));
                table.line("| " + String.join(" | ", cells) + " |");
            }
        }
        table.line("");
        table.line("![" + sizeLabel(size) + ": req/s relative to C epoll and p99 per connection count](" + pngPrefix + "-"
                + size + ".png)");
        table.line("");
    }

    private void idleTarget(String idle) {
        List<String> verdicts = new ArrayList<>();
        for (String k : KEEL) {
            OptionalDouble v = r.median(k, idle, "rss_per_conn_bytes");
            verdicts.add(k + " " + (v.isEmpty() ? (r.failed(k, idle) > 0 ? "failed" : "not measured")
                    : String.format("%.0f B, %s", v.getAsDouble(), v.getAsDouble() <= IDLE_TARGET_BYTES ? "met"
                    : String.format("missed by %.0f B", v.getAsDouble() - IDLE_TARGET_BYTES))));
        }
        table.line("Target (issue 16): at most " + (int) IDLE_TARGET_BYTES + " B of RSS per idle connection on both "
                + "transports: " + String.join("; ", verdicts) + ".");
        table.line("");
    }

    /** One directory per size, named by the size in bytes, with the tables and the plot's title. */
    private void plotData(Path dir) throws IOException {
        for (Map.Entry<Integer, List<String>> e : bySize.entrySet()) {
            Path sub = dir.resolve(Integer.toString(e.getKey()));
            EchoPlotData.write(r, sub, e.getValue());
            Files.writeString(sub.resolve("title.txt"), "Echo matrix, " + sizeLabel(e.getKey())
                    + " messages, 1 in flight per connection: server on CPU " + r.meta("server_cpu") + ", load on CPU "
                    + r.meta("load_cpu") + " (median of rounds)");
        }
    }
}
