package dev.keel.io;

/**
 * An application's side of datagram endpoints; called on the endpoint's loop thread. A handler
 * that throws is counted ({@link LoopStats#handlerFailures}) and the endpoint goes on.
 */
public interface DatagramHandler {
    /** A datagram arrived; {@code datagram} is a flyweight valid during this call only. */
    void onDatagram(DatagramEndpoint endpoint, Datagram datagram);

    /**
     * The socket reported {@code errno}: on a connected endpoint, ECONNREFUSED when an ICMP
     * port-unreachable came back for an earlier datagram. The endpoint stays open.
     */
    default void onError(DatagramEndpoint endpoint, int errno) {
    }

    /**
     * {@code count} queued datagrams were dropped: the kernel refused them with {@code errno}
     * (EAGAIN: the socket's send buffer was full); EMSGSIZE when a datagram was larger than
     * the endpoint's largest; 0 when the endpoint's send queue was full or it was closed.
     * Counted in {@link DatagramStats#dropped}; never retried.
     */
    default void onSendDropped(DatagramEndpoint endpoint, int count, int errno) {
    }

    /**
     * The kernel's software transmit timestamp of datagram {@code sendId}, in nanoseconds since
     * the epoch (CLOCK_REALTIME, the clock of {@link Datagram#receivedAtNanos}), when the endpoint
     * asked for them ({@link DatagramOptions.Builder#transmitTimestamps}). {@code sendId} is the
     * kernel's 32-bit count of the endpoint's datagrams sent before this one (0 for the first),
     * so it wraps after 2^32; stamps come in the order the datagrams left. A datagram the kernel
     * dropped before the device gets none.
     */
    default void onSendTimestamp(DatagramEndpoint endpoint, int sendId, long sentAtNanos) {
    }
}
