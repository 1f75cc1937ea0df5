package dev.keel.io;

import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn;
import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn6;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.MSG_TRUNC;

/**
 * One received datagram, as a reusable flyweight: the loop fills the same instance for every
 * datagram of an endpoint's batch, so a handler reads it during
 * {@link DatagramHandler#onDatagram} and keeps nothing of it (copy what must outlive the call).
 * Nothing here allocates except {@link #senderAddress}.
 */
public final class Datagram {
    private static final ValueLayout.OfShort NET_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private MemorySegment payload;
    private int length;
    private int fullLength;
    private MemorySegment sender;
    private int senderLength;
    private int flags;
    private int segmentSize;
    private long timestampNanos;

    Datagram() {
    }

    void set(MemorySegment payload, int length, int fullLength, MemorySegment sender, int senderLength, int flags,
             int segmentSize, long timestampNanos) {
        this.segmentSize = segmentSize;
        this.timestampNanos = timestampNanos;
        this.payload = payload;
        this.length = length;
        this.fullLength = fullLength;
        this.sender = sender;
        this.senderLength = senderLength;
        this.flags = flags;
    }

    /** The received bytes: the first {@link #length} bytes of this segment (which may be longer). */
    public MemorySegment payload() {
        return payload;
    }

    /** Bytes received (of the datagram's first bytes, when {@link #truncated}). */
    public int length() {
        return length;
    }

    /**
     * True when the datagram was longer than the endpoint's {@link DatagramOptions.Builder#maxDatagramSize}
     * and the kernel cut it (MSG_TRUNC): the rest is lost, never silently.
     */
    public boolean truncated() {
        return (flags & MSG_TRUNC) != 0;
    }

    /** The datagram's size on the wire: above {@link #length} when {@link #truncated}. */
    public int fullLength() {
        return fullLength;
    }

    /**
     * With {@link DatagramOptions.Builder#receiveGro}: the size of each datagram of a train the
     * kernel coalesced into this one (the last may be shorter), 0 when this is one datagram.
     */
    public int segmentSize() {
        return segmentSize;
    }

    /**
     * With {@link DatagramOptions.Builder#receiveTimestamps}: when the kernel received the
     * datagram (software timestamp, CLOCK_REALTIME, nanoseconds since the epoch); 0 otherwise,
     * and 0 for a datagram the kernel did not stamp: the first socket to ask turns receive
     * timestamps on for the whole system through deferred work (net_enable_timestamp), so
     * datagrams that arrive in the moment after may carry none.
     * Against the wall clock at {@link DatagramHandler#onDatagram}, how long it waited in the kernel.
     */
    public long receivedAtNanos() {
        return timestampNanos;
    }

    /** The sender's {@code struct sockaddr} (sockaddr_in or sockaddr_in6), {@link #senderLength} bytes. */
    public MemorySegment sender() {
        return sender;
    }

    /** Bytes of {@link #sender} that hold the sender's sockaddr. */
    public int senderLength() {
        return senderLength;
    }

    /** The sender's port, read without allocation. */
    public int senderPort() {
        long at = senderFamily() == AF_INET ? SockaddrIn.SIN_PORT : SockaddrIn6.SIN6_PORT;
        return Short.toUnsignedInt(sender.get(NET_SHORT, at));
    }

    /** AF_INET or AF_INET6. */
    public int senderFamily() {
        return sender.get(ValueLayout.JAVA_SHORT, 0);
    }

    /** The sender as an InetSocketAddress (allocates: for logs and tests, not per datagram). */
    public InetSocketAddress senderAddress() {
        return SocketAddresses.read(sender);
    }
}
