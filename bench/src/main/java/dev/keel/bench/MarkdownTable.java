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
 * Renders JMH results as one Markdown table per benchmark class. A method named
 * {@code <call><Variant>} (for example {@code getpidFfmCritical}) is shown as call {@code getpid},
 * variant {@code FfmCritical}; when the call also has a {@code Jni} variant, every row gets its
 * ratio to it, the yardstick FFM is usually judged by. With {@code -prof gc} a column gives the
 * bytes allocated per operation.
 */
final class MarkdownTable {
    private static final String REFERENCE = "Jni";
    /** Row order within a call; longest names first where one ends another (suffix match). */
    private static final List<String> ORDER = List.of(
            "FfmCritical", "FfmCriticalCapture", "FfmPlain", "FfmCapture", "Jni", "Jna");
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

    private MarkdownTable() {
    }

    record Row(String benchClass, String call, String variant, double score, double error, double min,
               String unit, String params, Double allocPerOp) {
    }

    static String render(Collection<RunResult> results) {
        Map<String, List<Row>> byClass = new LinkedHashMap<>();
        for (RunResult r : results) {
            Row row = row(r);
            byClass.computeIfAbsent(row.benchClass(), k -> new ArrayList<>()).add(row);
        }
        StringBuilder out = new StringBuilder();
        out.append("Score: mean time per operation over the measurement iterations; ± is JMH's 99.9% ")
                .append("confidence half-interval; Min: the fastest iteration (the least disturbed by other ")
                .append("work on the machine); vs JNI: score (or min) divided by the JNI one of the same call.\n");
        for (Map.Entry<String, List<Row>> e : byClass.entrySet()) {
            out.append("\n### ").append(e.getKey()).append("\n\n");
            table(out, sorted(e.getValue()));
        }
        return out.toString();
    }

    private static List<Row> sorted(List<Row> rows) {
        List<String> calls = rows.stream().map(Row::call).distinct().toList();
        List<Row> copy = new ArrayList<>(rows);
        copy.sort(Comparator.comparingInt((Row r) -> calls.indexOf(r.call()))
                .thenComparing(Row::params)
                .thenComparingInt(r -> ORDER.indexOf(r.variant())));
        return copy;
    }

    private static void table(StringBuilder out, List<Row> rows) {
        boolean params = rows.stream().anyMatch(r -> !r.params().isEmpty());
        boolean alloc = rows.stream().anyMatch(r -> r.allocPerOp() != null);
        out.append("| Call | Variant |").append(params ? " Params |" : "")
                .append(" Score | ± Error | Min | Unit | vs JNI | Min vs JNI |").append(alloc ? " B/op |" : "").append('\n');
        out.append("|---|---|").append(params ? "---|" : "").append("---:|---:|---:|---|---:|---:|")
                .append(alloc ? "---:|" : "").append('\n');
        for (Row row : rows) {
            Row jni = find(rows, row.call(), row.params());
            String ratio = jni == null || jni.score() == 0 ? "–" : fmt("%.2fx", row.score() / jni.score());
            String minRatio = jni == null || jni.min() == 0 ? "–" : fmt("%.2fx", row.min() / jni.min());
            out.append("| ").append(row.call()).append(" | ").append(row.variant().isEmpty() ? "–" : row.variant())
                    .append(" | ");
            if (params) {
                out.append(row.params()).append(" | ");
            }
            out.append(fmt("%.2f", row.score())).append(" | ")
                    .append(Double.isNaN(row.error()) ? "n/a" : fmt("%.2f", row.error())).append(" | ")
                    .append(fmt("%.2f", row.min())).append(" | ")
                    .append(row.unit()).append(" | ").append(ratio).append(" | ").append(minRatio).append(" |");
            if (alloc) {
                out.append(' ').append(row.allocPerOp() == null ? "–" : fmt("%.1f", row.allocPerOp())).append(" |");
            }
            out.append('\n');
        }
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

    private static Row row(RunResult r) {
        String full = r.getParams().getBenchmark();
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
        for (String key : r.getParams().getParamsKeys()) {
            params.append(params.isEmpty() ? "" : ", ").append(key).append('=').append(r.getParams().getParam(key));
        }
        Double alloc = null;
        // JMH declares Map<String, Result> with a raw Result; only the keys are read here.
        for (String key : r.getSecondaryResults().keySet()) {
            if (key.endsWith(ALLOC_NORM)) {
                alloc = r.getSecondaryResults().get(key).getScore();
            }
        }
        Result<?> primary = r.getPrimaryResult();
        return new Row(benchClass, call, variant, primary.getScore(), primary.getScoreError(),
                primary.getStatistics().getMin(), primary.getScoreUnit(), params.toString(), alloc);
    }
}
