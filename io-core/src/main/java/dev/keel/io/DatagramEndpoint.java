package dev.keel.io;

import dev.keel.ffm.SocketAddresses;
import dev.keel.io.loop.DatagramDriver;
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
    /** Datagram endpoints one loop serves at most (more are refused with IllegalStateException). */
    public static final int MAX_PER_LOOP = DatagramDriver.MAX_ENDPOINTS;

    private final LoopDatagrams owner;
    private final EventLoop loop;
    final int id;
    final int fd;
    /** AF_INET or AF_INET6. */
    final int family;
    private final int localPort;
    final DatagramSendRing sends;
    final DatagramHandler handler;
    final MemorySegment scratchName;
    boolean closed;

    DatagramEndpoint(LoopDatagrams owner, EventLoop loop, int id, int fd, int family, int localPort,
                     DatagramSendRing sends, DatagramHandler handler, MemorySegment scratchName) {
        this.owner = owner;
        this.loop = loop;
        this.id = id;
        this.fd = fd;
        this.family = family;
        this.localPort = localPort;
        this.sends = sends;
        this.handler = handler;
        this.scratchName = scratchName;
    }

    /** The loop that serves this endpoint; its thread is the one to call the other methods on. */
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

    /**
     * Joins multicast {@code group} (IPv4 or IPv6, as the endpoint) on interface
     * {@code interfaceIndex} (0: the kernel picks by route). Loop thread.
     *
     * @throws dev.keel.ffm.SyscallException naming setsockopt and the errno (EINVAL: not a
     *         multicast address; ENODEV: no such interface; EADDRINUSE: joined already)
     */
    public void joinGroup(java.net.InetAddress group, int interfaceIndex) {
        owner.membership(this, group, interfaceIndex, true);
    }

    /** Leaves multicast {@code group} on {@code interfaceIndex}. Loop thread. */
    public void leaveGroup(java.net.InetAddress group, int interfaceIndex) {
        owner.membership(this, group, interfaceIndex, false);
    }

    /**
     * Joins source-specific multicast: datagrams to {@code group} from {@code source} only
     * (MCAST_JOIN_SOURCE_GROUP, RFC 4607; IPv4 or IPv6 as the endpoint), on interface
     * {@code interfaceIndex} (0: the kernel picks by route). More sources of one group are more
     * joins. Loop thread.
     *
     * @throws dev.keel.ffm.SyscallException naming setsockopt and the errno (EINVAL: not a
     *         multicast group; ENODEV: no such interface; EADDRNOTAVAIL: that source is not joined,
     *         on leaving)
     */
    public void joinSourceGroup(java.net.InetAddress group, java.net.InetAddress source, int interfaceIndex) {
        owner.sourceMembership(this, group, source, interfaceIndex, true);
    }

    /** Leaves source-specific multicast {@code group} from {@code source} on {@code interfaceIndex}. Loop thread. */
    public void leaveSourceGroup(java.net.InetAddress group, java.net.InetAddress source, int interfaceIndex) {
        owner.sourceMembership(this, group, source, interfaceIndex, false);
    }

    /** Whether this host's own multicast datagrams come back to its sockets (default on). Loop thread. */
    public void multicastLoopback(boolean on) {
        owner.multicastOption(this, true, on ? 1 : 0);
    }

    /** TTL (IPv4) or hop limit (IPv6) of multicast datagrams sent, 0 to 255 (default 1). Loop thread. */
    public void multicastTtl(int ttl) {
        if (ttl < 0 || ttl > 255) {
            throw new IllegalArgumentException("multicast TTL must be 0..255: " + ttl);
        }
        owner.multicastOption(this, false, ttl);
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
