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

    /** Whether the kernel still holds memory of a closed endpoint (the loop's drain waits for it). */
    public boolean busy() {
        return false;
    }
}
