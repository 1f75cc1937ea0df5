package dev.keel.io;

import dev.keel.ffm.SocketAddresses;
import dev.keel.io.loop.DatagramSendRing;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * A UDP socket served by one {@link EventLoop}: bound, perhaps connected to one peer, receiving
 * in batches into its handler ({@link DatagramHandler}) and sending through a bounded queue that
 * leaves in one batch per loop pass (sendmmsg on epoll, sendmsg SQEs in the pass's one
 * io_uring_enter). Open it with {@link EventLoop#openDatagram} or, one per loop on a shared
 * port, {@link EventLoopGroup#openDatagrams}. Every method but {@link #localPort} and
 * {@link #loop} is for the loop thread; none allocates.
 */
public final class DatagramEndpoint {
    private final LoopDatagrams owner;
    private final EventLoop loop;
    final int id;
    final int fd;
    private final int localPort;
    final DatagramSendRing sends;
    final DatagramHandler handler;
    private final MemorySegment scratchName;
    boolean closed;

    DatagramEndpoint(LoopDatagrams owner, EventLoop loop, int id, int fd, int localPort, DatagramSendRing sends,
                     DatagramHandler handler, MemorySegment scratchName) {
        this.owner = owner;
        this.loop = loop;
        this.id = id;
        this.fd = fd;
        this.localPort = localPort;
        this.sends = sends;
        this.handler = handler;
        this.scratchName = scratchName;
    }

    public EventLoop loop() {
        return loop;
    }

    /** The port the socket is bound to. */
    public int localPort() {
        return localPort;
    }

    /** Whether {@link #close} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Queues {@code length} bytes of {@code data} from {@code offset} for the connected peer.
     * False when the datagram was dropped (the send queue full, or the endpoint closed): counted
     * and reported to {@link DatagramHandler#onSendDropped}.
     */
    public boolean send(MemorySegment data, long offset, long length) {
        return owner.queue(this, data, offset, length, scratchName, 0);
    }

    /** Queues a datagram for the {@code nameLength}-byte sockaddr in {@code name}. */
    public boolean sendTo(MemorySegment name, int nameLength, MemorySegment data, long offset, long length) {
        return owner.queue(this, data, offset, length, name, nameLength);
    }

    /** Queues a datagram back to the sender of {@code received}. */
    public boolean reply(Datagram received, MemorySegment data, long offset, long length) {
        return owner.queue(this, data, offset, length, received.sender(), received.senderLength());
    }

    /** Queues a datagram for {@code peer} (encoding the address each call: fine, but not free). */
    public boolean sendTo(InetSocketAddress peer, MemorySegment data, long offset, long length) {
        int n = SocketAddresses.write(peer, scratchName);
        return owner.queue(this, data, offset, length, scratchName, n);
    }

    /** Closes the socket; queued datagrams not yet sent are dropped. Idempotent; loop thread. */
    public void close() {
        owner.close(this);
    }

    @Override
    public String toString() {
        return "DatagramEndpoint[loop " + loop.index() + ", port " + localPort + ", id " + id + "]";
    }
}
