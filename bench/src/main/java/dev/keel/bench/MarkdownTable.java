package dev.keel.bench;

import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders JMH results, from one or more rounds of the same benchmarks, as one Markdown table per
 * benchmark class. A method named {@code <call><Variant>} (for example {@code getpidFfmCritical})
 * is shown as call {@code getpid}, variant {@code FfmCritical}; when the call also has a
 * {@code Jni} variant, every row gets its ratio to it, the yardstick FFM is usually judged by.
 *
 * <p>With several rounds the score is the median of the rounds' means and the spread column
 * gives the lowest and highest round mean: on a small shared machine, a disturbance hits a
 * round, not the median. With {@code -prof gc} a column gives the bytes allocated per operation
 * (the highest of the rounds).
 */
final class MarkdownTable {
    private static final String REFERENCE = "Jni";
    /** Row order within a call. */
    private static final List<String> ORDER = List.of(
            "FfmCritical", "FfmCriticalCapture", "FfmPlain", "FfmCapture", "Jni", "Jna");
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

    private MarkdownTable() {
    }

    /** One benchmark (method and parameters) over all rounds. */
    record Row(String benchClass, String call, String variant, String params, String unit, int rounds,
               double score, double error, double lowMean, double highMean, double min, Double allocPerOp) {
    }

    static String render(List<Collection<RunResult>> rounds) {
        Map<String, List<RunResult>> byBenchmark = new LinkedHashMap<>();
        for (Collection<RunResult> round : rounds) {
            for (RunResult r : round) {
                byBenchmark.computeIfAbsent(key(r), k -> new ArrayList<>()).add(r);
            }
        }
        Map<String, List<Row>> byClass = new LinkedHashMap<>();
        for (List<RunResult> runs : byBenchmark.values()) {
            Row row = row(runs);
            byClass.computeIfAbsent(row.benchClass(), k -> new ArrayList<>()).add(row);
        }
        boolean single = rounds.size() == 1;
        StringBuilder out = new StringBuilder();
        if (single) {
            out.append("Score: mean time per operation over the measurement iterations; ± is JMH's 99.9% ")
                    .append("confidence half-interval; ");
        } else {
            out.append("Score: median over ").append(rounds.size()).append(" rounds of each round's mean ")
                    .append("time per operation; Round means: the lowest and highest of them; ");
        }
        out.append("Min: the fastest measurement iteration of all (the least disturbed by other work on ")
                .append("the machine); vs JNI: score (or min) divided by the JNI one of the same call.\n");
        for (Map.Entry<String, List<Row>> e : byClass.entrySet()) {
            out.append("\n### ").append(e.getKey()).append("\n\n");
            table(out, sorted(e.getValue()), single);
        }
        return out.toString();
    }

    private static String key(RunResult r) {
        StringBuilder key = new StringBuilder(r.getParams().getBenchmark());
        for (String p : r.getParams().getParamsKeys()) {
            key.append(' ').append(p).append('=').append(r.getParams().getParam(p));
        }
        return key.toString();
    }

    private static List<Row> sorted(List<Row> rows) {
        List<String> calls = rows.stream().map(Row::call).distinct().toList();
        List<Row> copy = new ArrayList<>(rows);
        copy.sort(Comparator.comparingInt((Row r) -> calls.indexOf(r.call()))
                .thenComparing(Row::params)
                .thenComparingInt(r -> ORDER.indexOf(r.variant())));
        return copy;
    }

    private static void table(StringBuilder out, List<Row> rows, boolean single) {
        boolean params = rows.stream().anyMatch(r -> !r.params().isEmpty());
        boolean alloc = rows.stream().anyMatch(r -> r.allocPerOp() != null);
        out.append("| Call | Variant |").append(params ? " Params |" : "")
                .append(single ? " Score | ± Error |" : " Score | Round means |")
                .append(" Min | Unit | vs JNI | Min vs JNI |").append(alloc ? " B/op |" : "").append('\n');
        out.append("|---|---|").append(params ? "---|" : "").append("---:|---:|---:|---|---:|---:|")
                .append(alloc ? "---:|" : "").append('\n');
        for (Row row : rows) {
            Row jni = find(rows, row.call(), row.params());
            out.append("| ").append(row.call()).append(" | ")
                    .append(row.variant().isEmpty() ? "–" : row.variant()).append(" | ");
            if (params) {
                out.append(row.params()).append(" | ");
            }
            out.append(fmt("%.2f", row.score())).append(" | ");
            if (single) {
                out.append(Double.isNaN(row.error()) ? "n/a" : fmt("%.2f", row.error()));
            } else {
                out.append(fmt("%.2f", row.lowMean())).append("–").append(fmt("%.2f", row.highMean()));
            }
            out.append(" | ").append(fmt("%.2f", row.min())).append(" | ").append(row.unit()).append(" | ")
                    .append(ratio(row.score(), jni == null ? 0 : jni.score())).append(" | ")
                    .append(ratio(row.min(), jni == null ? 0 : jni.min())).append(" |");
            if (alloc) {
                out.append(' ').append(row.allocPerOp() == null ? "–" : fmt("%.1f", row.allocPerOp())).append(" |");
            }
            out.append('\n');
        }
    }

    private static String ratio(double value, double reference) {
        return reference == 0 ? "–" : fmt("%.2fx", value / reference);
    }

    private static String fmt(String format, double value) {
        return String.format(Locale.ROOT, format, value);
    }

    private static Row find(List<Row> rows, String call, String params) {
        for (Row r : rows) {
            if (r.call().equals(call) && r.variant().equals(REFERENCE) && r.params().equals(params)) {
                return r;
            }
        }
        return null;
    }

    private static Row row(List<RunResult> runs) {
        RunResult first = runs.getFirst();
        String full = first.getParams().getBenchmark();
        int dot = full.lastIndexOf('.');
        String benchClass = full.substring(full.lastIndexOf('.', dot - 1) + 1, dot);
        String method = full.substring(dot + 1);
        String call = method;
        String variant = "";
        String[] bySuffixLength = ORDER.toArray(String[]::new);
        Arrays.sort(bySuffixLength, Comparator.comparingInt(String::length).reversed());
        for (String v : bySuffixLength) {
            if (method.endsWith(v) && method.length() > v.length()) {
                call = method.substring(0, method.length() - v.length());
                variant = v;
                break;
            }
        }
        StringBuilder params = new StringBuilder();
        for (String key : first.getParams().getParamsKeys()) {
            params.append(params.isEmpty() ? "" : ", ").append(key).append('=').append(first.getParams().getParam(key));
        }
        double[] means = new double[runs.size()];
        double min = Double.POSITIVE_INFINITY;
        Double alloc = null;
        for (int i = 0; i < runs.size(); i++) {
            RunResult r = runs.get(i);
            Result<?> primary = r.getPrimaryResult();
            means[i] = primary.getScore();
            min = Math.min(min, primary.getStatistics().getMin());
            // JMH declares Map<String, Result> with a raw Result; only the keys are read here.
            for (String key : r.getSecondaryResults().keySet()) {
                if (key.endsWith(ALLOC_NORM)) {
                    double a = r.getSecondaryResults().get(key).getScore();
                    alloc = alloc == null ? a : Math.max(alloc, a);
                }
            }
        }
        Arrays.sort(means);
        int n = means.length;
        double median = n % 2 == 1 ? means[n / 2] : (means[n / 2 - 1] + means[n / 2]) / 2;
        double error = n == 1 ? first.getPrimaryResult().getScoreError() : Double.NaN;
        return new Row(benchClass, call, variant, params.toString(), first.getPrimaryResult().getScoreUnit(), n,
                median, error, means[0], means[n - 1], min, alloc);
    }
}
