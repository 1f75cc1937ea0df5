package dev.keel.io.stats;

/**
 * The values of one loop's {@link dev.keel.io.DatagramStats} at about one moment, or their sum
 * over a group's loops. A batch is what one system call moved (see {@link dev.keel.io.DatagramStats}).
 *
 * @param in              datagrams received
 * @param out             datagrams the kernel took
 * @param truncated       datagrams received cut short (MSG_TRUNC)
 * @param dropped         datagrams not sent (send queue full, or refused by the kernel)
 * @param errors          socket errors reported to handlers (ECONNREFUSED and the like)
 * @param receiveBatches  receive batches
 * @param sendBatches     send batches
 * @param perReceiveBatch datagrams per receive batch
 * @param perSendBatch    datagrams per send batch
 */
public record DatagramStatsSnapshot(long in, long out, long truncated, long dropped, long errors,
                                    long receiveBatches, long sendBatches, HistogramSnapshot perReceiveBatch,
                                    HistogramSnapshot perSendBatch) {

    /** The sum of this and {@code o} (loops of one group). */
    public DatagramStatsSnapshot plus(DatagramStatsSnapshot o) {
        return new DatagramStatsSnapshot(in + o.in, out + o.out, truncated + o.truncated, dropped + o.dropped,
                errors + o.errors, receiveBatches + o.receiveBatches, sendBatches + o.sendBatches,
                perReceiveBatch.plus(o.perReceiveBatch), perSendBatch.plus(o.perSendBatch));
    }

    /** Datagrams per batch, both ways; 0 before the first batch. */
    public double perBatch() {
        long batches = receiveBatches + sendBatches;
        return batches == 0 ? 0 : (double) (in + out) / batches;
    }
}
