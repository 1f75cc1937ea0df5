package dev.keel.io.stats;

import java.math.BigDecimal;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Renders loop statistics in the Prometheus text exposition format, version 0.0.4: for each
 * metric a {@code # HELP} and a {@code # TYPE} line, then one sample per loop labelled
 * {@code loop="i"}. Counters end in {@code _total}; histograms give cumulative
 * {@code _bucket{le="..."}} samples ending with {@code le="+Inf"}, then {@code _sum} and
 * {@code _count}. Times are in seconds, as Prometheus names want.
 *
 * <p>Runs off the loops (on whatever thread serves the scrape) over {@link LoopStatsSnapshot}s.
 *
 * @see <a href="https://prometheus.io/docs/instrumenting/exposition_formats/">Exposition formats</a>
 */
public final class PrometheusText {
    /** The Content-Type of a response carrying this format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final double NANOS_PER_SECOND = 1e9;

    private record Scalar(String name, String type, String help, ToLongFunction<LoopStatsSnapshot> value) {
    }

    private record Histogram(String name, String help, Function<LoopStatsSnapshot, HistogramSnapshot> value,
                             int unitExponent) {
    }

    private static final List<Scalar> SCALARS = List.of(
            new Scalar("keel_loop_passes_total", "counter", "Loop passes (duty cycles) run.", LoopStatsSnapshot::passes),
            new Scalar("keel_connections_accepted_total", "counter", "Connections accepted.",
                    LoopStatsSnapshot::accepted),
            new Scalar("keel_connections_closed_total", "counter", "Connections closed, for any reason.",
                    LoopStatsSnapshot::closed),
            new Scalar("keel_connections_rejected_total", "counter",
                    "Accepted sockets closed unserved because the connection table was full.",
                    LoopStatsSnapshot::rejected),
            new Scalar("keel_accept_failures_total", "counter",
                    "Accept failures that paused accepting (EMFILE, ENFILE, ENOBUFS, ENOMEM, or unexpected).",
                    LoopStatsSnapshot::acceptFailures),
            new Scalar("keel_accept_aborted_total", "counter",
                    "Accepts that failed for the one connection (ECONNABORTED, EPERM, ...); accepting went on.",
                    LoopStatsSnapshot::acceptAborted),
            new Scalar("keel_connects_attempted_total", "counter",
                    "Outbound connects started (each succeeded, failed, or still under way).",
                    LoopStatsSnapshot::connectsAttempted),
            new Scalar("keel_connects_succeeded_total", "counter", "Outbound connects that opened.",
                    LoopStatsSnapshot::connectsSucceeded),
            new Scalar("keel_connects_failed_total", "counter",
                    "Outbound connects that failed (refused, unreachable, timed out, no room, loop stopping).",
                    LoopStatsSnapshot::connectsFailed),
            new Scalar("keel_connections_open", "gauge", "Connections open at the end of the last loop pass.",
                    LoopStatsSnapshot::openConnections),
            new Scalar("keel_connections_capacity", "gauge", "Connection table slots of the loop.",
                    LoopStatsSnapshot::connectionCapacity),
            new Scalar("keel_received_bytes_total", "counter", "Bytes received from connections.",
                    LoopStatsSnapshot::bytesIn),
            new Scalar("keel_sent_bytes_total", "counter", "Bytes the sockets took (writes, sendfile, splice).",
                    LoopStatsSnapshot::bytesOut),
            new Scalar("keel_idle_timeouts_total", "counter", "Connections closed by the idle timeout.",
                    LoopStatsSnapshot::idleTimeouts),
            new Scalar("keel_timers_fired_total", "counter",
                    "Timing-wheel timers fired (idle checks, scheduled tasks, accept retries).",
                    LoopStatsSnapshot::timersFired),
            new Scalar("keel_syscalls_total", "counter", "System calls made by the loop thread.",
                    LoopStatsSnapshot::syscalls),
            new Scalar("keel_loop_stalls_total", "counter", "Loop passes busier than the stall threshold.",
                    LoopStatsSnapshot::stalls),
            new Scalar("keel_pool_buffers_in_use", "gauge",
                    "Buffers of the loop's pool in use at the end of the last pass.", LoopStatsSnapshot::buffersInUse),
            new Scalar("keel_pool_buffers_capacity", "gauge", "Buffers in the loop's pool.",
                    LoopStatsSnapshot::bufferCapacity),
            new Scalar("keel_handler_failures_total", "counter", "Handler callbacks that threw.",
                    LoopStatsSnapshot::handlerFailures),
            new Scalar("keel_task_failures_total", "counter", "Tasks and timers that threw.",
                    LoopStatsSnapshot::taskFailures),
            new Scalar("keel_loop_failures_total", "counter", "Unexpected failures inside a loop pass, survived.",
                    LoopStatsSnapshot::loopFailures),
            new Scalar("keel_receive_starvations_total", "counter",
                    "io_uring receives stopped for want of provided buffers.", LoopStatsSnapshot::receiveStarvations),
            new Scalar("keel_completion_overflows_total", "counter", "io_uring completion queue overflows seen.",
                    LoopStatsSnapshot::completionOverflows),
            new Scalar("keel_datagrams_received_total", "counter", "Datagrams received by datagram endpoints.",
                    s -> s.datagrams().in()),
            new Scalar("keel_datagrams_sent_total", "counter", "Datagrams the kernel took from datagram endpoints.",
                    s -> s.datagrams().out()),
            new Scalar("keel_datagrams_truncated_total", "counter",
                    "Datagrams received cut short (MSG_TRUNC): longer than the endpoint's largest datagram.",
                    s -> s.datagrams().truncated()),
            new Scalar("keel_datagrams_dropped_total", "counter",
                    "Datagrams not sent: the send queue was full or the kernel refused them.",
                    s -> s.datagrams().dropped()),
            new Scalar("keel_datagram_errors_total", "counter",
                    "Socket errors reported to datagram handlers (ICMP errors such as ECONNREFUSED).",
                    s -> s.datagrams().errors()),
            new Scalar("keel_datagram_receive_batches_total", "counter",
                    "Receive batches: recvmmsg calls (epoll) or loop passes (io_uring) that brought datagrams.",
                    s -> s.datagrams().receiveBatches()),
            new Scalar("keel_datagram_send_batches_total", "counter",
                    "Send batches: sendmmsg calls (epoll) or io_uring_enter submissions that sent datagrams.",
                    s -> s.datagrams().sendBatches()));

    private static final List<Histogram> HISTOGRAMS = List.of(
            new Histogram("keel_loop_pass_busy_seconds",
                    "Busy time of a loop pass: the pass minus its blocking wait for events.",
                    LoopStatsSnapshot::passBusyNanos, 9),
            new Histogram("keel_loop_pass_syscalls", "System calls made by the loop thread per loop pass.",
                    LoopStatsSnapshot::syscallsPerPass, 0),
            new Histogram("keel_datagrams_per_receive_batch", "Datagrams one receive batch brought.",
                    s -> s.datagrams().perReceiveBatch(), 0),
            new Histogram("keel_datagrams_per_send_batch", "Datagrams one send batch sent.",
                    s -> s.datagrams().perSendBatch(), 0));

    private PrometheusText() {
    }

    /** Every metric of {@code loops}, one sample per loop. */
    public static String render(List<LoopStatsSnapshot> loops) {
        StringBuilder out = new StringBuilder(8192);
        for (Scalar m : SCALARS) {
            header(out, m.name, m.type, m.help);
            for (LoopStatsSnapshot s : loops) {
                out.append(m.name).append("{loop=\"").append(s.loop()).append("\"} ")
                        .append(m.value.applyAsLong(s)).append('\n');
            }
        }
        for (Histogram h : HISTOGRAMS) {
            header(out, h.name, "histogram", h.help);
            for (LoopStatsSnapshot s : loops) {
                histogram(out, h, s.loop(), h.value.apply(s));
            }
        }
        return out.toString();
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void histogram(StringBuilder out, Histogram h, int loop, HistogramSnapshot s) {
        long[] bounds = s.bounds();
        long[] counts = s.counts();
        long cumulative = 0;
        for (int i = 0; i < counts.length; i++) {
            cumulative += counts[i];
            String le = i < bounds.length ? scaled(bounds[i], h.unitExponent) : "+Inf";
            out.append(h.name).append("_bucket{loop=\"").append(loop).append("\",le=\"").append(le).append("\"} ")
                    .append(cumulative).append('\n');
        }
        out.append(h.name).append("_sum{loop=\"").append(loop).append("\"} ")
                .append(h.unitExponent == 0 ? Long.toString(s.sum()) : Double.toString(s.sum() / NANOS_PER_SECOND))
                .append('\n');
        out.append(h.name).append("_count{loop=\"").append(loop).append("\"} ").append(cumulative).append('\n');
    }

    /** {@code value * 10^-exponent} written exactly, without an exponent: 1024 ns is "0.000001024". */
    private static String scaled(long value, int exponent) {
        return BigDecimal.valueOf(value).movePointLeft(exponent).stripTrailingZeros().toPlainString();
    }
}
