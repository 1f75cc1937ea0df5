package dev.keel.io;

import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.GroupSourceReq;
import dev.keel.ffm.gen.LinuxLayouts.IpMreqn;
import dev.keel.ffm.gen.LinuxLayouts.Ipv6Mreq;
import dev.keel.io.loop.DatagramDriver;
import dev.keel.io.loop.DatagramSendRing;
import dev.keel.io.loop.DatagramSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_IP;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_IPV6;
import static dev.keel.ffm.gen.LinuxConstants.IPV6_JOIN_GROUP;
import static dev.keel.ffm.gen.LinuxConstants.IPV6_LEAVE_GROUP;
import static dev.keel.ffm.gen.LinuxConstants.IPV6_RECVERR;
import static dev.keel.ffm.gen.LinuxConstants.IPV6_MULTICAST_HOPS;
import static dev.keel.ffm.gen.LinuxConstants.IPV6_MULTICAST_LOOP;
import static dev.keel.ffm.gen.LinuxConstants.IP_ADD_MEMBERSHIP;
import static dev.keel.ffm.gen.LinuxConstants.IP_DROP_MEMBERSHIP;
import static dev.keel.ffm.gen.LinuxConstants.IP_MULTICAST_LOOP;
import static dev.keel.ffm.gen.LinuxConstants.IP_MULTICAST_TTL;
import static dev.keel.ffm.gen.LinuxConstants.IP_RECVERR;
import static dev.keel.ffm.gen.LinuxConstants.MCAST_JOIN_SOURCE_GROUP;
import static dev.keel.ffm.gen.LinuxConstants.MCAST_LEAVE_SOURCE_GROUP;
import static dev.keel.ffm.gen.LinuxConstants.MSG_TRUNC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_DGRAM;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_REUSEPORT;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_TIMESTAMPING;
import static dev.keel.ffm.gen.LinuxConstants.SOF_TIMESTAMPING_RX_SOFTWARE;
import static dev.keel.ffm.gen.LinuxConstants.SOF_TIMESTAMPING_OPT_ID;
import static dev.keel.ffm.gen.LinuxConstants.SOF_TIMESTAMPING_OPT_TSONLY;
import static dev.keel.ffm.gen.LinuxConstants.SOF_TIMESTAMPING_SOFTWARE;
import static dev.keel.ffm.gen.LinuxConstants.SOF_TIMESTAMPING_TX_SOFTWARE;
import static dev.keel.ffm.gen.LinuxConstants.SOL_UDP;
import static dev.keel.ffm.gen.LinuxConstants.UDP_GRO;
import static dev.keel.ffm.gen.LinuxConstants.UDP_SEGMENT;

/**
 * The datagram endpoints of one loop: their table (at most {@link DatagramDriver#MAX_ENDPOINTS}),
 * socket set-up, the one {@link Datagram} flyweight, counting into the loop's {@link LoopStats},
 * and the calls into handlers. The transport's {@link DatagramDriver} does the system calls and
 * reports here. Loop thread only.
 */
final class LoopDatagrams implements DatagramSink {
    private final LoopCore core;
    private final EventLoop loop;
    private final DatagramEndpoint[] endpoints = new DatagramEndpoint[DatagramDriver.MAX_ENDPOINTS];
    private final Arena[] arenas = new Arena[DatagramDriver.MAX_ENDPOINTS];
    private final Datagram datagram = new Datagram();
    private final DatagramDriver driver;

    LoopDatagrams(LoopCore core, EventLoop loop) {
        this.core = core;
        this.loop = loop;
        this.driver = core.poller.datagrams(this);
    }

    DatagramEndpoint open(InetSocketAddress local, DatagramOptions o, DatagramHandler handler) {
        int id = freeId();
        Arena arena = Arena.ofConfined();
        int fd = -1;
        try {
            MemorySegment name = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            int family = SocketAddresses.family(local);
            fd = Sockets.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            core.countSyscalls(1);
            if (o.reusePort) {
                Sockets.setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
            }
            if (o.socketReceiveBuffer > 0) {
                Sockets.setInt(fd, SOL_SOCKET, SO_RCVBUF, o.socketReceiveBuffer);
            }
            if (o.socketSendBuffer > 0) {
                Sockets.setInt(fd, SOL_SOCKET, SO_SNDBUF, o.socketSendBuffer);
            }
            if (o.receiveTimestamps || o.transmitTimestamps) {
                Sockets.setInt(fd, SOL_SOCKET, SO_TIMESTAMPING, timestampingFlags(o));
            }
            if (o.receiveGro) {
                Sockets.setInt(fd, SOL_UDP, UDP_GRO, 1);
            }
            if (o.sendSegmentSize > 0) {
                Sockets.setInt(fd, SOL_UDP, UDP_SEGMENT, o.sendSegmentSize);
            }
            Sockets.bind(fd, name, SocketAddresses.write(local, name));
            if (o.connectTo != null && driver.readsErrorQueue()) {
                keepErrorsOnErrorQueue(fd, family);
            }
            if (o.connectTo != null) {
                Sockets.connect(fd, name, SocketAddresses.write(o.connectTo, name));
            }
            Sockets.localAddress(fd, name);
            int port = SocketAddresses.read(name).getPort();
            DatagramSendRing ring = new DatagramSendRing(arena, o.sendQueue, o.maxDatagramSize);
            DatagramEndpoint e = new DatagramEndpoint(this, loop, id, fd, family, port, ring, handler, name);
            endpoints[id] = e;
            arenas[id] = arena;
            driver.open(id, fd, ring, o.batchSize, o.maxDatagramSize, o.receiveBuffers, o.transmitTimestamps);
            return e;
        } catch (RuntimeException | Error failure) {
            if (endpoints[id] != null) {
                endpoints[id] = null;
                arenas[id] = null;
            }
            if (fd >= 0) {
                EventLoop.closeQuietly(fd);
            }
            arena.close();
            throw failure;
        }
    }

    /**
     * SO_TIMESTAMPING's flags: software stamps reported (SOFTWARE), made on receive
     * (RX_SOFTWARE) and on transmit (TX_SOFTWARE), the latter numbered (OPT_ID) and queued
     * without a copy of the datagram (OPT_TSONLY: the error queue holds only the stamp).
     */
    private static int timestampingFlags(DatagramOptions o) {
        int flags = SOF_TIMESTAMPING_SOFTWARE;
        if (o.receiveTimestamps) {
            flags |= SOF_TIMESTAMPING_RX_SOFTWARE;
        }
        if (o.transmitTimestamps) {
            flags |= SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
        }
        return flags;
    }

    /**
     * IP_RECVERR (and IPV6_RECVERR on an IPv6 socket, which may also reach IPv4-mapped peers):
     * ICMP errors for a connected endpoint are queued on its error queue as well as set as the
     * pending socket error, so that the driver hears each one even when a failing receive or
     * send consumed the pending error first.
     */
    private void keepErrorsOnErrorQueue(int fd, int family) {
        Sockets.setInt(fd, IPPROTO_IP, IP_RECVERR, 1);
        if (family != AF_INET) {
            Sockets.setInt(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
        }
    }

    private int freeId() {
        for (int id = 0; id < endpoints.length; id++) {
            if (endpoints[id] == null) {
                return id;
            }
        }
        throw new IllegalStateException("a loop serves at most " + endpoints.length + " datagram endpoints");
    }

    boolean queue(DatagramEndpoint e, MemorySegment data, long offset, long length, MemorySegment name,
                  int nameLength) {
        if (e.closed || !e.sends.offer(data, offset, length, name, nameLength)) {
            sendDropped(e.id, 1, length > e.sends.slotSize() ? Errno.EMSGSIZE : 0);
            return false;
        }
        driver.queued(e.id);
        return true;
    }

    /** IP_ADD_MEMBERSHIP/IP_DROP_MEMBERSHIP (ip_mreqn) or IPV6_JOIN_GROUP/IPV6_LEAVE_GROUP (ipv6_mreq). */
    void membership(DatagramEndpoint e, InetAddress group, int interfaceIndex, boolean join) {
        core.assertInLoop();
        byte[] address = group.getAddress();
        MemorySegment m = e.scratchName;
        m.fill((byte) 0);
        core.countSyscalls(1);
        if (e.family == AF_INET) {
            if (address.length != 4) {
                throw new IllegalArgumentException("an IPv4 endpoint joins IPv4 groups: " + group);
            }
            MemorySegment.copy(address, 0, m, ValueLayout.JAVA_BYTE, IpMreqn.IMR_MULTIADDR, 4);
            m.set(ValueLayout.JAVA_INT, IpMreqn.IMR_IFINDEX, interfaceIndex);
            Sockets.set(e.fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, m.asSlice(0, IpMreqn.SIZE));
        } else {
            if (address.length != 16) {
                throw new IllegalArgumentException("an IPv6 endpoint joins IPv6 groups: " + group);
            }
            MemorySegment.copy(address, 0, m, ValueLayout.JAVA_BYTE, Ipv6Mreq.IPV6MR_MULTIADDR, 16);
            m.set(ValueLayout.JAVA_INT, Ipv6Mreq.IPV6MR_INTERFACE, interfaceIndex);
            Sockets.set(e.fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, m.asSlice(0, Ipv6Mreq.SIZE));
        }
    }

    /**
     * MCAST_JOIN_SOURCE_GROUP / MCAST_LEAVE_SOURCE_GROUP with a {@code struct group_source_req}
     * (interface index, group and source as sockaddrs of the endpoint's family), at level
     * IPPROTO_IP or IPPROTO_IPV6 as the socket. The request is 264 bytes, made in an arena of
     * its own: joining is set-up, not the datagram path.
     */
    void sourceMembership(DatagramEndpoint e, InetAddress group, InetAddress source, int interfaceIndex,
                          boolean join) {
        core.assertInLoop();
        boolean v4 = e.family == AF_INET;
        if ((group.getAddress().length == 4) != v4 || (source.getAddress().length == 4) != v4) {
            throw new IllegalArgumentException("an " + (v4 ? "IPv4" : "IPv6") + " endpoint joins "
                    + (v4 ? "IPv4" : "IPv6") + " groups from such sources: " + group + " from " + source);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = arena.allocate(GroupSourceReq.SIZE, GroupSourceReq.ALIGNMENT);
            req.set(ValueLayout.JAVA_INT, GroupSourceReq.GSR_INTERFACE, interfaceIndex);
            SocketAddresses.write(new InetSocketAddress(group, 0),
                    req.asSlice(GroupSourceReq.GSR_GROUP, GroupSourceReq.GSR_GROUP_SIZE));
            SocketAddresses.write(new InetSocketAddress(source, 0),
                    req.asSlice(GroupSourceReq.GSR_SOURCE, GroupSourceReq.GSR_SOURCE_SIZE));
            core.countSyscalls(1);
            Sockets.set(e.fd, v4 ? IPPROTO_IP : IPPROTO_IPV6, join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP,
                    req);
        }
    }

    /** IP(V6)_MULTICAST_LOOP ({@code loopback}) or IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS. */
    void multicastOption(DatagramEndpoint e, boolean loopback, int value) {
        core.assertInLoop();
        core.countSyscalls(1);
        if (e.family == AF_INET) {
            Sockets.setInt(e.fd, IPPROTO_IP, loopback ? IP_MULTICAST_LOOP : IP_MULTICAST_TTL, value);
        } else {
            Sockets.setInt(e.fd, IPPROTO_IPV6, loopback ? IPV6_MULTICAST_LOOP : IPV6_MULTICAST_HOPS, value);
        }
    }

    void close(DatagramEndpoint e) {
        if (!e.closed) {
            e.closed = true;
            driver.close(e.id);
        }
    }

    // ---------------------------------------------------------------- from the driver

    @Override
    public void received(int id, MemorySegment payload, int length, int fullLength, MemorySegment name,
                         int nameLength, int msgFlags, int segmentSize, long timestampNanos) {
        DatagramEndpoint e = endpoints[id];
        DatagramStats stats = core.stats.datagrams();
        stats.in++;
        if ((msgFlags & MSG_TRUNC) != 0) {
            stats.truncated++;
        }
        if (e == null || e.closed) {
            return;
        }
        datagram.set(payload, length, fullLength, name, nameLength, msgFlags, segmentSize, timestampNanos);
        try {
            e.handler.onDatagram(e, datagram);
        } catch (RuntimeException t) {
            handlerFailed(t);
        }
    }

    @Override
    public void failed(int id, int errno) {
        DatagramEndpoint e = endpoints[id];
        core.stats.datagrams().errors++;
        if (e == null || e.closed) {
            return;
        }
        try {
            e.handler.onError(e, errno);
        } catch (RuntimeException t) {
            handlerFailed(t);
        }
    }

    @Override
    public void sendDropped(int id, int count, int errno) {
        DatagramEndpoint e = endpoints[id];
        core.stats.datagrams().dropped += count;
        if (e == null || count == 0) {
            return;
        }
        try {
            e.handler.onSendDropped(e, count, errno);
        } catch (RuntimeException t) {
            handlerFailed(t);
        }
    }

    @Override
    public void sentAt(int id, int sendId, long timestampNanos) {
        DatagramEndpoint e = endpoints[id];
        core.stats.datagrams().sendTimestamps++;
        if (e == null || e.closed) {
            return;
        }
        try {
            e.handler.onSendTimestamp(e, sendId, timestampNanos);
        } catch (RuntimeException t) {
            handlerFailed(t);
        }
    }

    @Override
    public void sent(int id, int count) {
        core.stats.datagrams().out += count;
    }

    @Override
    public void released(int id) {
        endpoints[id] = null;
        Arena arena = arenas[id];
        arenas[id] = null;
        if (arena != null) {
            arena.close();
        }
    }

    private void handlerFailed(RuntimeException t) {
        core.stats.handlerFailures++;
        core.reportUnexpected(t);
    }
}
