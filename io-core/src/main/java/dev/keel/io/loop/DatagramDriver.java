package dev.keel.io.loop;

/**
 * A transport's datagram side: receives on an endpoint's socket in batches and sends what its
 * {@link DatagramSendRing} holds, reporting to the loop's {@link DatagramSink}. Endpoints are
 * named by a small id the loop gives; the driver holds at most {@link #MAX_ENDPOINTS}. Made by
 * {@link Poller#datagrams}, flushed by the poller at the start of each poll (so what a pass
 * queued leaves in one batch) and closed with it. Loop thread only.
 */
public abstract class DatagramDriver {
    /** Datagram endpoints per loop. */
    public static final int MAX_ENDPOINTS = 64;

    protected final DatagramSink sink;

    protected DatagramDriver(DatagramSink sink) {
        this.sink = sink;
    }

    /**
     * Starts receiving on bound (and maybe connected) non-blocking socket {@code fd} as endpoint
     * {@code id}: batches of up to {@code batch} datagrams of up to {@code maxDatagram} bytes
     * (epoll), or {@code receiveBuffers} provided buffers of that size (io_uring).
     */
    public abstract void open(int id, int fd, DatagramSendRing sends, int batch, int maxDatagram,
                              int receiveBuffers);

    /** Endpoint {@code id} queued datagrams: they leave at the next {@link #flush} (or now, if its ring is full). */
    public abstract void queued(int id);

    /** Sends what every endpoint queued. */
    public abstract void flush();

    /**
     * Stops endpoint {@code id} and closes its socket; the sink hears {@code released} once
     * the kernel holds nothing of it (perhaps at once).
     */
    public abstract void close(int id);

    /** The loop is ending: closes every endpoint still open. */
    public abstract void closeAll();

    /**
     * Whether this driver reads an endpoint's error queue (MSG_ERRQUEUE) when the socket reports
     * an error, so that a connected endpoint may keep its ICMP errors there too (IP_RECVERR,
     * IPV6_RECVERR). The epoll driver does: its receives and sends learn errno only when they
     * fail, and a pending socket error is consumed by the failing call (see
     * {@link dev.keel.ffm.Datagrams}), so the error queue is where it is told from. A driver that
     * gets every error as a completion result (io_uring) does not, and must not ask for copies
     * nobody reads: they would take room in the socket's receive buffer.
     */
    public boolean readsErrorQueue() {
        return false;
    }

    /** Whether the kernel still holds memory of a closed endpoint (the loop's drain waits for it). */
    public boolean busy() {
        return false;
    }
}
