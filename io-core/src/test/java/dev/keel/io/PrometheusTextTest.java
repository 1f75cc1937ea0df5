package dev.keel.io;

import dev.keel.io.stats.DatagramStatsSnapshot;
import dev.keel.io.stats.LoopStatsSnapshot;
import dev.keel.io.stats.PrometheusText;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import dev.keel.io.testing.PrometheusTextCheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exposition text: well formed (checked by {@link PrometheusTextCheck}) and carrying the values. */
class PrometheusTextTest {
    private static LoopStatsSnapshot snapshot(int loop, long base) {
        Log2Histogram busy = new Log2Histogram(LoopStats.PASS_TIME_MIN_EXPONENT, LoopStats.PASS_TIME_BUCKETS);
        busy.record(500);
        busy.record(3_000);
        busy.record(2_000_000_000L);
        Log2Histogram calls = new Log2Histogram(0, LoopStats.SYSCALL_BUCKETS);
        calls.record(0);
        calls.record(3);
        calls.record(1000);
        Log2Histogram perReceive = new Log2Histogram(0, DatagramStats.BATCH_BUCKETS);
        perReceive.record(1);
        perReceive.record(32);
        Log2Histogram perSend = new Log2Histogram(0, DatagramStats.BATCH_BUCKETS);
        perSend.record(7);
        DatagramStatsSnapshot datagrams = new DatagramStatsSnapshot(base + 33, base + 7, base + 1, base + 2,
                base + 3, base + 2, base + 1, perReceive.snapshot(), perSend.snapshot());
        return new LoopStatsSnapshot(loop, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7,
                base + 8, base + 9, base + 10, base + 11, base + 12, base + 13, base + 14, base + 15, base + 16,
                base + 17, base + 18, base + 19, base + 20, base + 21, base + 22, base + 23, base + 24, busy.snapshot(),
                calls.snapshot(), datagrams);
    }

    @Test
    void shouldRenderEveryMetricWithHelpTypeAndOneSamplePerLoop() {
        String text = PrometheusText.render(List.of(snapshot(0, 0), snapshot(1, 100)));
        Map<String, Double> samples = PrometheusTextCheck.parse(text);
        assertEquals(2.0, samples.get("keel_connections_accepted_total{loop=\"0\"}"));
        assertEquals(102.0, samples.get("keel_connections_accepted_total{loop=\"1\"}"));
        assertEquals(108.0, samples.get("keel_received_bytes_total{loop=\"1\"}"));
        assertEquals(22.0, samples.get("keel_connects_attempted_total{loop=\"0\"}"));
        assertEquals(123.0, samples.get("keel_connects_succeeded_total{loop=\"1\"}"));
        assertEquals(24.0, samples.get("keel_connects_failed_total{loop=\"0\"}"));
        assertEquals(6.0, samples.get("keel_connections_open{loop=\"0\"}"));
        assertEquals(1.0, samples.get("keel_loop_pass_busy_seconds_bucket{loop=\"0\",le=\"0.000001024\"}"));
        assertEquals(2.0, samples.get("keel_loop_pass_busy_seconds_bucket{loop=\"0\",le=\"0.000004096\"}"));
        assertEquals(3.0, samples.get("keel_loop_pass_busy_seconds_bucket{loop=\"0\",le=\"+Inf\"}"));
        assertEquals(3.0, samples.get("keel_loop_pass_busy_seconds_count{loop=\"0\"}"));
        assertEquals(2.0000035, samples.get("keel_loop_pass_busy_seconds_sum{loop=\"0\"}"), 1e-12);
        assertEquals(1.0, samples.get("keel_loop_pass_syscalls_bucket{loop=\"1\",le=\"1\"}"));
        assertEquals(2.0, samples.get("keel_loop_pass_syscalls_bucket{loop=\"1\",le=\"4\"}"));
        assertEquals(2.0, samples.get("keel_loop_pass_syscalls_bucket{loop=\"1\",le=\"256\"}"));
        assertEquals(1003.0, samples.get("keel_loop_pass_syscalls_sum{loop=\"1\"}"));
        assertEquals(133.0, samples.get("keel_datagrams_received_total{loop=\"1\"}"));
        assertEquals(7.0, samples.get("keel_datagrams_sent_total{loop=\"0\"}"));
        assertEquals(2.0, samples.get("keel_datagram_receive_batches_total{loop=\"0\"}"));
        assertEquals(101.0, samples.get("keel_datagram_send_batches_total{loop=\"1\"}"));
        assertEquals(1.0, samples.get("keel_datagrams_per_receive_batch_bucket{loop=\"0\",le=\"16\"}"));
        assertEquals(2.0, samples.get("keel_datagrams_per_receive_batch_bucket{loop=\"0\",le=\"32\"}"));
        assertEquals(33.0, samples.get("keel_datagrams_per_receive_batch_sum{loop=\"0\"}"));
        assertEquals(1.0, samples.get("keel_datagrams_per_send_batch_bucket{loop=\"0\",le=\"8\"}"));
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void shouldPutEachValueInThePowerOfTwoBucketAboveIt() {
        Log2Histogram h = new Log2Histogram(10, 21);
        assertEquals(0, h.bucketOf(0));
        assertEquals(0, h.bucketOf(1024));
        assertEquals(1, h.bucketOf(1025));
        assertEquals(1, h.bucketOf(2048));
        assertEquals(2, h.bucketOf(2049));
        assertEquals(21, h.bucketOf(Long.MAX_VALUE), "the overflow bucket");
        assertEquals(20, h.bucketOf(1L << 30));
        assertEquals(21, h.bucketOf((1L << 30) + 1));
        assertEquals(0, h.bucketOf(-5), "a negative value counts as the smallest");
        assertEquals(0, h.bucketOf(Long.MIN_VALUE));
        Log2Histogram calls = new Log2Histogram(0, 9);
        int[] expected = {0, 0, 1, 2, 2, 3, 3, 3, 3, 4};
        for (int v = 0; v < expected.length; v++) {
            assertEquals(expected[v], calls.bucketOf(v), "syscalls " + v);
        }
        assertEquals(8, calls.bucketOf(256));
        assertEquals(9, calls.bucketOf(257), "the overflow bucket");
    }
}
