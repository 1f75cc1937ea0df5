package dev.keel.io;

import dev.keel.io.stats.DatagramStatsSnapshot;
import dev.keel.io.stats.HistogramSnapshot;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The datagram counters of one loop ({@link LoopStats#datagrams}): datagrams in and out, cut,
 * dropped and errors, and how they travelled — batches and datagrams per batch, each way.
 *
 * <p>A batch is what one system call moved: on epoll one recvmmsg(2) or sendmmsg(2) that moved
 * at least one datagram; on io_uring, where each datagram is its own completion or SQE, the
 * datagrams one loop pass reaped, or queued for the pass's one io_uring_enter. Datagrams per
 * batch above 1 is the proof that batching happens; under light load it is 1.
 *
 * <p>Same discipline as {@link LoopStats}: the loop thread writes with plain stores, any thread
 * reads opaquely.
 */
public final class DatagramStats {
    /** Datagrams-per-batch buckets: 1, 2, 4, ... 1024 (the most a recvmmsg/sendmmsg batch takes). */
    static final int BATCH_BUCKETS = 11;

    private static final VarHandle IN = field("in");
    private static final VarHandle OUT = field("out");
    private static final VarHandle TRUNCATED = field("truncated");
    private static final VarHandle DROPPED = field("dropped");
    private static final VarHandle ERRORS = field("errors");
    private static final VarHandle RECEIVE_BATCHES = field("receiveBatches");
    private static final VarHandle SEND_BATCHES = field("sendBatches");
    private static final VarHandle SEND_TIMESTAMPS = field("sendTimestamps");

    long in;
    long out;
    long truncated;
    long dropped;
    long errors;
    long receiveBatches;
    long sendBatches;
    long sendTimestamps;
    private final Log2Histogram perReceiveBatch = new Log2Histogram(0, BATCH_BUCKETS);
    private final Log2Histogram perSendBatch = new Log2Histogram(0, BATCH_BUCKETS);

    DatagramStats() {
    }

    private static VarHandle field(String name) {
        try {
            return MethodHandles.lookup().findVarHandle(DatagramStats.class, name, long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // ---------------------------------------------------------------- loop thread

    /** One receive batch of {@code n} datagrams (n at least 1). */
    void receiveBatch(int n) {
        receiveBatches++;
        perReceiveBatch.record(n);
    }

    /** One send batch of {@code n} datagrams (n at least 1). */
    void sendBatch(int n) {
        sendBatches++;
        perSendBatch.record(n);
    }

    // ---------------------------------------------------------------- any thread

    /** Datagrams received by the loop's endpoints. */
    public long in() {
        return (long) IN.getOpaque(this);
    }

    /** Datagrams the kernel took from the loop's endpoints. */
    public long out() {
        return (long) OUT.getOpaque(this);
    }

    /** Datagrams received cut short (MSG_TRUNC): longer than the endpoint's largest datagram. */
    public long truncated() {
        return (long) TRUNCATED.getOpaque(this);
    }

    /** Datagrams not sent: the send queue was full, or the kernel refused them (a full socket buffer). */
    public long dropped() {
        return (long) DROPPED.getOpaque(this);
    }

    /** Socket errors reported to datagram handlers (ECONNREFUSED and the like). */
    public long errors() {
        return (long) ERRORS.getOpaque(this);
    }

    /**
     * Software transmit timestamps read from the endpoints' error queues and handed to their
     * handlers ({@link DatagramOptions.Builder#transmitTimestamps}). Not in the snapshot.
     */
    public long sendTimestamps() {
        return (long) SEND_TIMESTAMPS.getOpaque(this);
    }

    /** Receive batches (see the class comment). */
    public long receiveBatches() {
        return (long) RECEIVE_BATCHES.getOpaque(this);
    }

    /** Send batches (see the class comment). */
    public long sendBatches() {
        return (long) SEND_BATCHES.getOpaque(this);
    }

    /** Datagrams per receive batch. */
    public HistogramSnapshot perReceiveBatch() {
        return perReceiveBatch.snapshot();
    }

    /** Datagrams per send batch. */
    public HistogramSnapshot perSendBatch() {
        return perSendBatch.snapshot();
    }

    /**
     * Datagrams moved per batch, both ways: (in + out) / (receive batches + send batches), 0
     * before the first. Above 1 only when datagrams travel in batches.
     */
    public double perBatch() {
        long batches = receiveBatches() + sendBatches();
        return batches == 0 ? 0 : (double) (in() + out()) / batches;
    }

    /** A copy of every value, each read opaquely; any thread. */
    public DatagramStatsSnapshot snapshot() {
        return new DatagramStatsSnapshot(in(), out(), truncated(), dropped(), errors(), receiveBatches(),
                sendBatches(), perReceiveBatch(), perSendBatch());
    }
}
