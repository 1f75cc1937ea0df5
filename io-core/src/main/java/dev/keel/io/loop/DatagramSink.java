package dev.keel.io.loop;

import java.lang.foreign.MemorySegment;

/**
 * What a transport's datagram side ({@link DatagramDriver}) tells the loop: datagrams received,
 * errors the socket reported, sends the kernel refused, endpoints released. Loop thread only;
 * nothing here may allocate.
 */
public interface DatagramSink {
    /**
     * A datagram for endpoint {@code id}: {@code length} bytes of {@code payload} (which is at
     * least that long), {@code fullLength} its size on the wire, its sender's sockaddr in the
     * first {@code nameLength} bytes of {@code name}, the kernel's message flags (MSG_TRUNC: the
     * datagram was longer than the buffer), and the segment size when the kernel coalesced a
     * train of datagrams into this one (UDP_GRO), else 0; and the kernel's software receive
     * timestamp in nanoseconds since the epoch (SO_TIMESTAMPING), else 0.
     */
    void received(int id, MemorySegment payload, int length, int fullLength, MemorySegment name, int nameLength,
                  int msgFlags, int segmentSize, long timestampNanos);

    /** The socket of endpoint {@code id} reported {@code errno} (an ICMP error such as ECONNREFUSED). */
    void failed(int id, int errno);

    /** {@code count} queued datagrams of endpoint {@code id} were not sent, the kernel said {@code errno}. */
    void sendDropped(int id, int count, int errno);

    /**
     * The software transmit timestamp (nanoseconds since the epoch) of the datagram endpoint
     * {@code id} sent as number {@code sendId} (SOF_TIMESTAMPING_OPT_ID), read from its error queue.
     */
    void sentAt(int id, int sendId, long timestampNanos);

    /** {@code count} datagrams of endpoint {@code id} left. */
    void sent(int id, int count);

    /** The kernel holds nothing of endpoint {@code id} any more: its memory may be freed. */
    void released(int id);
}
