package dev.keel.zerocopy.proxy;

import java.util.List;

/**
 * The counters of a {@link TcpProxy}'s loop at about one moment (each value read opaquely, so
 * they may be a pass apart), or their sum over the loops ({@link #total}, loop -1). Bytes,
 * connections and connects of the loops themselves are in io-core's loop statistics
 * ({@code keel_connects_failed_total} and the rest); these say what became of the sessions.
 *
 * @param loop             loop index, -1 for a total
 * @param sessionsOpened   client connections accepted, each a session
 * @param sessionsClosed   sessions over (their client connection closed)
 * @param upstreamRefused  sessions whose upstream connect was refused (ECONNREFUSED): the client was reset
 * @param upstreamTimedOut sessions whose upstream connect timed out: the client was reset
 * @param upstreamFailed   sessions whose upstream connect failed otherwise (unreachable, out of
 *                         descriptors, no room on the loop, the loop stopping): the client was reset
 * @param resetsPassed     resets (and failures that cut a stream short) passed on from one side to the other
 */
public record ProxyStats(int loop, long sessionsOpened, long sessionsClosed, long upstreamRefused,
                         long upstreamTimedOut, long upstreamFailed, long resetsPassed) {

    /** Sessions open now: opened and not yet closed. */
    public long sessionsOpen() {
        return sessionsOpened - sessionsClosed;
    }

    /** Upstream connects that failed, for any reason. */
    public long upstreamFailures() {
        return upstreamRefused + upstreamTimedOut + upstreamFailed;
    }

    /** The sum over {@code loops} (at least one), with loop index -1. */
    public static ProxyStats total(List<ProxyStats> loops) {
        if (loops.isEmpty()) {
            throw new IllegalArgumentException("no loops to add up");
        }
        long opened = 0;
        long closed = 0;
        long refused = 0;
        long timedOut = 0;
        long failed = 0;
        long resets = 0;
        for (ProxyStats s : loops) {
            opened += s.sessionsOpened;
            closed += s.sessionsClosed;
            refused += s.upstreamRefused;
            timedOut += s.upstreamTimedOut;
            failed += s.upstreamFailed;
            resets += s.resetsPassed;
        }
        return new ProxyStats(-1, opened, closed, refused, timedOut, failed, resets);
    }

    /**
     * {@code loops} in the Prometheus text format 0.0.4, one sample per loop labelled
     * {@code loop="i"} (the upstream failures also by {@code reason}), to follow io-core's
     * loop metrics on a {@code /metrics} page.
     */
    public static String prometheusText(List<ProxyStats> loops) {
        StringBuilder out = new StringBuilder(1024);
        counter(out, "keel_proxy_sessions_opened_total", "Client connections accepted by the proxy, one session each.");
        loops.forEach(s -> sample(out, "keel_proxy_sessions_opened_total", s.loop, null, s.sessionsOpened));
        counter(out, "keel_proxy_sessions_closed_total", "Proxy sessions over.");
        loops.forEach(s -> sample(out, "keel_proxy_sessions_closed_total", s.loop, null, s.sessionsClosed));
        counter(out, "keel_proxy_upstream_failures_total",
                "Upstream connects that failed, by reason; each reset its client.");
        for (ProxyStats s : loops) {
            sample(out, "keel_proxy_upstream_failures_total", s.loop, "refused", s.upstreamRefused);
            sample(out, "keel_proxy_upstream_failures_total", s.loop, "timeout", s.upstreamTimedOut);
            sample(out, "keel_proxy_upstream_failures_total", s.loop, "other", s.upstreamFailed);
        }
        counter(out, "keel_proxy_resets_passed_total", "Resets and failures passed on from one side of a session to the other.");
        loops.forEach(s -> sample(out, "keel_proxy_resets_passed_total", s.loop, null, s.resetsPassed));
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
    }

    private static void sample(StringBuilder out, String name, int loop, String reason, long value) {
        out.append(name).append("{loop=\"").append(loop);
        if (reason != null) {
            out.append("\",reason=\"").append(reason);
        }
        out.append("\"} ").append(value).append('\n');
    }
}
