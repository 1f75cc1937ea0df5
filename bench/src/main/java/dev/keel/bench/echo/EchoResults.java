package dev.keel.bench.echo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The rows of one echo-bench.sh run (one JSON object a line): a meta line about the machine,
 * then one line per server x scenario x round. Answers medians over the rounds that passed
 * (exit 0, every byte verified); failed and discarded rows are counted, never averaged in.
 */
final class EchoResults {
    /** The scenario a {@code --idle} measurement is filed under. */
    static final String IDLE = "idle-10000";
    /** Share of a timed run's server CPU that other work may take before the row is left out. */
    static final double NOISE_MAX = 0.15;

    private final Map<String, Object> meta;
    private final List<Map<String, Object>> rows;
    private final Set<String> servers = new LinkedHashSet<>();
    private final Set<String> scenarios = new LinkedHashSet<>();

    private EchoResults(Map<String, Object> meta, List<Map<String, Object>> rows) {
        this.meta = meta;
        this.rows = rows;
        for (Map<String, Object> r : rows) {
            servers.add(text(r, "server"));
            if (!"log".equals(r.get("status"))) {
                scenarios.add(text(r, "scenario"));
            }
        }
    }

    /** What servers wrote on stderr, one line per server run that wrote anything: "server (round N): text". */
    List<String> logs() {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            if ("log".equals(r.get("status"))) {
                out.add(text(r, "server") + " (round " + Math.round((Double) r.get("round")) + "): " + text(r, "text").strip());
            }
        }
        return out;
    }

    static EchoResults read(Path jsonl) throws IOException {
        Map<String, Object> meta = Map.of();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> o = FlatJson.parse(line);
            if (Boolean.TRUE.equals(o.get("meta"))) {
                meta = o;
            } else {
                rows.add(o);
            }
        }
        return new EchoResults(meta, rows);
    }

    Map<String, Object> meta() {
        return meta;
    }

    String meta(String key) {
        Object v = meta.get(key);
        return v == null ? "?" : v instanceof Double d && d == Math.rint(d) ? Long.toString(d.longValue()) : v.toString();
    }

    /** Servers in the order the run first measured them. */
    List<String> servers() {
        return List.copyOf(servers);
    }

    /** Scenarios in the order the run first measured them. */
    List<String> scenarios() {
        return List.copyOf(scenarios);
    }

    boolean has(String server, String scenario) {
        return rows.stream().anyMatch(r -> server.equals(r.get("server")) && scenario.equals(r.get("scenario")));
    }

    /**
     * Rows of one cell that passed and were measured on a quiet machine; when every passing row
     * was noisy, those (then {@link #onlyNoisy} is true), so a cell is never empty for noise alone.
     */
    List<Map<String, Object>> ok(String server, String scenario) {
        List<Map<String, Object>> clean = new ArrayList<>();
        List<Map<String, Object>> noisy = new ArrayList<>();
        for (Map<String, Object> r : cell(server, scenario)) {
            if (passed(r)) {
                (isNoisy(r) ? noisy : clean).add(r);
            }
        }
        return clean.isEmpty() ? noisy : clean;
    }

    /** Rows that passed but were left out of the medians because other work took the server's CPU. */
    int noisy(String server, String scenario) {
        int n = 0;
        for (Map<String, Object> r : cell(server, scenario)) {
            n += passed(r) && isNoisy(r) ? 1 : 0;
        }
        return onlyNoisy(server, scenario) ? 0 : n;
    }

    /** True when every row of the cell that passed was noisy: its medians come from noisy rows. */
    boolean onlyNoisy(String server, String scenario) {
        List<Map<String, Object>> ok = ok(server, scenario);
        return !ok.isEmpty() && isNoisy(ok.get(0));
    }

    private List<Map<String, Object>> cell(String server, String scenario) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            if (server.equals(r.get("server")) && scenario.equals(r.get("scenario"))) {
                out.add(r);
            }
        }
        return out;
    }

    /** A row that passed: the script's last attempt, every byte verified ("noisy" rows too). */
    private static boolean passed(Map<String, Object> r) {
        return "ok".equals(r.get("status")) || "noisy".equals(r.get("status"));
    }

    /**
     * Other work took more than {@link #NOISE_MAX} of the server's or the load generator's CPU
     * during the timed run: that CPU's busy time not charged to the server (other_cpu_s) or to
     * echo_load (load_other_cpu_s). On a quiet machine both stay under 0.1 of the run; a
     * neighbour's build or benchmark drives them to 0.5-1.0 and cuts throughput by half or more.
     */
    static boolean isNoisy(Map<String, Object> r) {
        return "noisy".equals(r.get("status")) || noiseShare(r) > NOISE_MAX;
    }

    /** The larger of other_cpu_s and load_other_cpu_s over seconds; 0 when a row has neither (idle). */
    static double noiseShare(Map<String, Object> r) {
        if (!(r.get("seconds") instanceof Double s) || s <= 0) {
            return 0;
        }
        double other = r.get("other_cpu_s") instanceof Double o ? o : 0;
        double load = r.get("load_other_cpu_s") instanceof Double l ? l : 0;
        return Math.max(other, load) / s;
    }

    /** Rows of one cell that failed (server died, load generator error, or a corrupted byte). */
    int failed(String server, String scenario) {
        int n = 0;
        for (Map<String, Object> r : rows) {
            if (server.equals(r.get("server")) && scenario.equals(r.get("scenario")) && "failed".equals(r.get("status"))) {
                n++;
            }
        }
        return n;
    }

    /** Measurements thrown away because something else used the server's CPU, then re-run. */
    int discarded(String server, String scenario) {
        int n = 0;
        for (Map<String, Object> r : rows) {
            if (server.equals(r.get("server")) && scenario.equals(r.get("scenario"))
                    && "discarded".equals(r.get("status"))) {
                n++;
            }
        }
        return n;
    }

    /** Why the first failed row of a cell failed, or null. */
    String failure(String server, String scenario) {
        for (Map<String, Object> r : rows) {
            if (server.equals(r.get("server")) && scenario.equals(r.get("scenario")) && "failed".equals(r.get("status"))) {
                return text(r, "error");
            }
        }
        return null;
    }

    OptionalDouble median(String server, String scenario, String metric) {
        double[] v = values(server, scenario, metric);
        if (v.length == 0) {
            return OptionalDouble.empty();
        }
        Arrays.sort(v);
        int m = v.length / 2;
        return OptionalDouble.of(v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2);
    }

    OptionalDouble min(String server, String scenario, String metric) {
        return Arrays.stream(values(server, scenario, metric)).min();
    }

    OptionalDouble max(String server, String scenario, String metric) {
        return Arrays.stream(values(server, scenario, metric)).max();
    }

    private double[] values(String server, String scenario, String metric) {
        return ok(server, scenario).stream()
                .map(r -> r.get(metric))
                .filter(v -> v instanceof Double d && d >= 0)
                .mapToDouble(v -> (Double) v)
                .toArray();
    }

    /** The median share of the server's CPU that other work took during the timed runs the medians use. */
    OptionalDouble noise(String server) {
        double[] v = scenarios.stream()
                .flatMap(s -> ok(server, s).stream())
                .filter(r -> r.get("other_cpu_s") instanceof Double)
                .mapToDouble(r -> Math.max(0, noiseShare(r)))
                .sorted()
                .toArray();
        return v.length == 0 ? OptionalDouble.empty() : OptionalDouble.of(v[v.length / 2]);
    }

    /** Every row as read, for counts. */
    Map<String, Integer> statusCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Map<String, Object> r : rows) {
            counts.merge(text(r, "status"), 1, Integer::sum);
        }
        return counts;
    }

    private static String text(Map<String, Object> r, String key) {
        Object v = r.get(key);
        return v == null ? "?" : v.toString();
    }
}
