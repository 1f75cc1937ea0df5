package dev.keel.bench.echo;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The targets of issue 3 checked against one run's medians: one row per target with keel's
 * figure, the reference it is held to, the ratio and whether it is met. A target without data
 * (a server failed or was not run) says so instead of passing.
 */
final class EchoTargets {
    static final String C = "c-epoll";
    static final String C_BUSY = "c-epoll+busy";
    static final String KEEL = "keel-epoll";
    static final String KEEL_BUSY = "keel-epoll+busy";

    /** One target: what it asks, keel's value, the reference, keel/reference, and the verdict. */
    record Row(String target, String keel, String reference, String ratio, String verdict) {
    }

    private final EchoResults r;
    private final List<Row> rows = new ArrayList<>();

    private EchoTargets(EchoResults r) {
        this.r = r;
    }

    static List<Row> evaluate(EchoResults results) {
        EchoTargets t = new EchoTargets(results);
        t.latency("ping-pong p50 within 5% of C epoll", "p50_us");
        t.latency("ping-pong p99 within 5% of C epoll", "p99_us");
        t.busyPoll();
        t.throughput("64x16 req/s >= C epoll and above every Java peer", "64x16", "rps", "req/s");
        t.throughput("16 KiB MB/s >= C epoll and above every Java peer", "16k", "mbps", "MB/s");
        t.cpuPerRequest();
        t.sweep();
        t.idleMemory();
        return t.rows;
    }

    /** The Java peers in the run: every server that is neither C nor keel. */
    static List<String> javaPeers(EchoResults r) {
        return r.servers().stream().filter(s -> s.startsWith("netty-") || s.startsWith("jdk-")).toList();
    }

    private void latency(String target, String metric) {
        OptionalDouble k = r.median(KEEL, "pingpong", metric);
        OptionalDouble c = r.median(C, "pingpong", metric);
        if (k.isEmpty() || c.isEmpty()) {
            missing(target);
            return;
        }
        double ratio = k.getAsDouble() / c.getAsDouble();
        rows.add(new Row(target, us(k), us(c) + " (C)", ratio(ratio), verdict(ratio <= 1.05)));
    }

    private void busyPoll() {
        String target = "busy-poll ping-pong p50 <= 0.75x blocking C epoll";
        OptionalDouble k = r.median(KEEL_BUSY, "pingpong", "p50_us");
        OptionalDouble c = r.median(C, "pingpong", "p50_us");
        if (k.isEmpty() || c.isEmpty()) {
            missing(target);
            return;
        }
        double ratio = k.getAsDouble() / c.getAsDouble();
        OptionalDouble cb = r.median(C_BUSY, "pingpong", "p50_us");
        String ref = us(c) + " (C blocking)" + (cb.isPresent() ? "; C busy-poll " + us(cb) : "");
        rows.add(new Row(target, us(k), ref, ratio(ratio), verdict(ratio <= 0.75)));
    }

    private void throughput(String target, String scenario, String metric, String unit) {
        OptionalDouble k = r.median(KEEL, scenario, metric);
        OptionalDouble c = r.median(C, scenario, metric);
        if (k.isEmpty() || c.isEmpty()) {
            missing(target);
            return;
        }
        String bestPeer = null;
        double best = -1;
        for (String peer : javaPeers(r)) {
            OptionalDouble p = r.median(peer, scenario, metric);
            if (p.isPresent() && p.getAsDouble() > best) {
                best = p.getAsDouble();
                bestPeer = peer;
            }
        }
        double ratio = k.getAsDouble() / c.getAsDouble();
        boolean met = ratio >= 1.0 && k.getAsDouble() > best;
        String ref = EchoReport.amount(c.getAsDouble()) + " " + unit + " (C)"
                + (bestPeer == null ? "" : "; best Java peer " + bestPeer + " " + EchoReport.amount(best)
                + " (keel " + ratio(k.getAsDouble() / best) + ")");
        rows.add(new Row(target, EchoReport.amount(k.getAsDouble()) + " " + unit, ref, ratio(ratio), verdict(met)));
    }

    private void cpuPerRequest() {
        String target = "server CPU time per request <= C epoll's";
        List<String> over = new ArrayList<>();
        int compared = 0;
        double worst = 0;
        String worstScenario = null;
        for (String s : r.scenarios()) {
            OptionalDouble k = r.median(KEEL, s, "cpu_us_per_req");
            OptionalDouble c = r.median(C, s, "cpu_us_per_req");
            if (k.isEmpty() || c.isEmpty() || c.getAsDouble() <= 0) {
                continue;
            }
            compared++;
            double ratio = k.getAsDouble() / c.getAsDouble();
            if (ratio > 1.0) {
                over.add(s + " " + ratio(ratio));
            }
            if (ratio > worst) {
                worst = ratio;
                worstScenario = s;
            }
        }
        if (compared == 0) {
            missing(target);
            return;
        }
        String keel = (compared - over.size()) + " of " + compared + " scenarios at or under C";
        String ref = over.isEmpty() ? "every scenario" : "over: " + String.join(", ", over);
        rows.add(new Row(target, keel, ref, "worst " + ratio(worst) + " (" + worstScenario + ")", verdict(over.isEmpty())));
    }

    private void sweep() {
        String target = "<= 10% req/s lost from 100 to 10,000 connections";
        OptionalDouble k100 = r.median(KEEL, "sweep-100", "rps");
        OptionalDouble k10k = r.median(KEEL, "sweep-10000", "rps");
        if (k100.isEmpty() || k10k.isEmpty()) {
            missing(target);
            return;
        }
        double kept = k10k.getAsDouble() / k100.getAsDouble();
        OptionalDouble c100 = r.median(C, "sweep-100", "rps");
        OptionalDouble c10k = r.median(C, "sweep-10000", "rps");
        String ref = c100.isPresent() && c10k.isPresent()
                ? "C keeps " + ratio(c10k.getAsDouble() / c100.getAsDouble()) : "C: no data";
        rows.add(new Row(target, EchoReport.amount(k100.getAsDouble()) + " -> " + EchoReport.amount(k10k.getAsDouble())
                + " req/s (keeps " + ratio(kept) + ")", ref, ratio(kept), verdict(kept >= 0.90)));
    }

    private void idleMemory() {
        String target = "<= 1 KiB RSS per idle connection at 10,000";
        OptionalDouble k = r.median(KEEL, EchoResults.IDLE, "rss_per_conn_bytes");
        if (k.isEmpty()) {
            missing(target);
            return;
        }
        OptionalDouble c = r.median(C, EchoResults.IDLE, "rss_per_conn_bytes");
        rows.add(new Row(target, Math.round(k.getAsDouble()) + " B", "1024 B" + (c.isPresent()
                ? "; C " + Math.round(c.getAsDouble()) + " B" : ""), ratio(k.getAsDouble() / 1024), verdict(k.getAsDouble() <= 1024)));
    }

    private void missing(String target) {
        rows.add(new Row(target, "no data", "", "", "not measured (a server failed or was not run)"));
    }

    private static String us(OptionalDouble v) {
        return String.format("%.1f µs", v.getAsDouble());
    }

    static String ratio(double v) {
        return String.format("%.2fx", v);
    }

    private static String verdict(boolean met) {
        return met ? "met" : "**missed**";
    }
}
