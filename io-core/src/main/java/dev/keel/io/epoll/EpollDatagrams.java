package dev.keel.io.epoll;

import dev.keel.ffm.Datagrams;
import dev.keel.ffm.Epoll;
import dev.keel.ffm.Files;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.Iovec;
import dev.keel.ffm.gen.LinuxLayouts.Mmsghdr;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;
import dev.keel.io.loop.DatagramControl;
import dev.keel.io.loop.DatagramDriver;
import dev.keel.io.loop.DatagramSendRing;
import dev.keel.io.loop.DatagramSink;
import dev.keel.io.loop.PollerHost;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.EPOLLERR;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLIN;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_ADD;
import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.MSG_TRUNC;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Datagram endpoints on epoll: each socket in the loop's epoll set (level-triggered, token
 * {@link #tokenOf}); readable means one recvmmsg(2) of up to a batch into the endpoint's
 * receive slots, each datagram handed to the sink with its sender; queued sends leave with one
 * sendmmsg(2) per flush (two when the send ring wraps). A send the kernel refuses — EAGAIN on
 * a full socket buffer, or an ICMP error — drops what was queued, counted and reported, never
 * retried: UDP has no flow control to wait for.
 *
 * <p>Errors: recvmmsg and sendmmsg learn errno only when they fail, by failing again (see
 * {@link Datagrams}), and the pending socket error an ICMP message sets is consumed by the
 * failing call. So a connected endpoint also keeps its ICMP errors on its error queue
 * ({@link #readsErrorQueue}), and EPOLLERR — which the kernel raises while the queue holds
 * anything — is answered by reading the queue ({@link #readErrorQueue}) and telling each
 * error's errno (struct sock_extended_err) to the sink; reading the last one clears the
 * pending error too. The same reads bring the transmit timestamps an endpoint asked for.
 * EPOLLERR with nothing queued is a pending error alone, read (and cleared) from SO_ERROR.
 * Each ICMP error is told once — twice only if a second one arrives between a failed
 * receive and its retry.
 */
final class EpollDatagrams extends DatagramDriver {
    /** Epoll tokens of endpoints: {@code TOKEN_BASE - id}, below the poller's own negative tokens. */
    static final long TOKEN_BASE = -1_000L;

    private final PollerHost loop;
    private final int epfd;
    private final int[] fds = new int[MAX_ENDPOINTS];
    private final MemorySegment[] receives = new MemorySegment[MAX_ENDPOINTS];
    /** Per endpoint, per receive slot: the payload and sockaddr views handed to the sink, made once. */
    private final MemorySegment[][] payloadViews = new MemorySegment[MAX_ENDPOINTS][];
    private final MemorySegment[][] nameViews = new MemorySegment[MAX_ENDPOINTS][];
    /** Per endpoint: its error-queue reads ({@link #layOutErrorQueue}), inside its receive memory. */
    private final MemorySegment[] errorQueues = new MemorySegment[MAX_ENDPOINTS];
    private final Arena[] arenas = new Arena[MAX_ENDPOINTS];
    private final int[] batches = new int[MAX_ENDPOINTS];
    private final int[] slotSizes = new int[MAX_ENDPOINTS];

    EpollDatagrams(DatagramSink sink, PollerHost loop, int epfd) {
        super(sink);
        this.loop = loop;
        this.epfd = epfd;
        java.util.Arrays.fill(fds, -1);
    }

    /** Offset of the control areas in an endpoint's receive memory of {@code batch} slots. */
    private static long controlsAt(int batch) {
        return Mmsghdr.SIZE * batch + Iovec.SIZE * batch + SocketAddresses.STORAGE_SIZE * batch;
    }

    static long tokenOf(int id) {
        return TOKEN_BASE - id;
    }

    static boolean isToken(long token) {
        return token <= TOKEN_BASE && token > TOKEN_BASE - MAX_ENDPOINTS;
    }

    @Override
    public boolean readsErrorQueue() {
        return true;
    }

    /**
     * Receive memory of one endpoint: {@code batch} slots laid out as an mmsghdr array, then
     * iovecs, sockaddrs, control areas and payloads of {@code maxDatagram} bytes; then the
     * error-queue reads ({@link #layOutErrorQueue}).
     */
    @Override
    public void open(int id, int fd, DatagramSendRing sends, int batch, int maxDatagram, int receiveBuffers,
                     boolean sendTimestamps) {
        Arena arena = Arena.ofConfined();
        long names = Mmsghdr.SIZE * batch + Iovec.SIZE * batch;
        long controls = names + SocketAddresses.STORAGE_SIZE * batch;
        long payloads = controls + (long) DatagramControl.SPACE * batch;
        long errors = payloads + (long) maxDatagram * batch;
        MemorySegment m = arena.allocate(errors + ERROR_QUEUE_BYTES, 64);
        MemorySegment e = m.asSlice(errors, ERROR_QUEUE_BYTES);
        layOutErrorQueue(e);
        errorQueues[id] = e;
        for (int i = 0; i < batch; i++) {
            long iov = Mmsghdr.SIZE * batch + Iovec.SIZE * i;
            Datagrams.setIovec(m, iov, m.address() + payloads + (long) maxDatagram * i, maxDatagram);
            Datagrams.setMsghdr(m, Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR, m.address() + names
                    + SocketAddresses.STORAGE_SIZE * i, (int) SocketAddresses.STORAGE_SIZE, m.address() + iov,
                    m.address() + controls + (long) DatagramControl.SPACE * i, DatagramControl.SPACE);
        }
        payloadViews[id] = new MemorySegment[batch];
        nameViews[id] = new MemorySegment[batch];
        for (int i = 0; i < batch; i++) {
            payloadViews[id][i] = m.asSlice(payloads + (long) maxDatagram * i, maxDatagram);
            nameViews[id][i] = m.asSlice(names + SocketAddresses.STORAGE_SIZE * i, SocketAddresses.STORAGE_SIZE);
        }
        fds[id] = fd;
        rings[id] = sends;
        receives[id] = m;
        arenas[id] = arena;
        batches[id] = batch;
        slotSizes[id] = maxDatagram;
        loop.countSyscalls(1);
        Epoll.ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLIN, tokenOf(id));
    }

    /** Epoll reported endpoint {@code id} ready: errors first (EPOLLERR), then datagrams (EPOLLIN). */
    void ready(int id, int events) {
        if ((events & EPOLLERR) != 0) {
            readErrorQueue(loop, id, fds[id], errorQueues[id]);
        }
        if ((events & EPOLLIN) != 0) {
            receive(id);
        }
    }

    /** One recvmmsg of up to a batch, each datagram handed to the sink with its sender. */
    private void receive(int id) {
        int fd = fds[id];
        if (fd < 0) {
            return;
        }
        MemorySegment m = receives[id];
        int batch = batches[id];
        resetHeaders(m, batch, DatagramControl.SPACE);
        loop.countSyscalls(1);
        // MSG_TRUNC: msg_len says the datagram's real size, even when it was cut.
        int n = Datagrams.recvmmsg(fd, m, batch, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (n != -Errno.EAGAIN && n != -Errno.EINTR) {
                sink.failed(id, -n); // a pending socket error, or one that recurs
            }
            return;
        }
        if (n > 0) {
            loop.countReceiveBatch(n);
        }
        int size = slotSizes[id];
        MemorySegment[] payloadView = payloadViews[id];
        MemorySegment[] nameView = nameViews[id];
        for (int i = 0; i < n && fds[id] == fd; i++) {
            long h = Mmsghdr.SIZE * i;
            int len = m.get(JAVA_INT, h + Mmsghdr.MSG_LEN);
            int nameLen = m.get(JAVA_INT, h + Mmsghdr.MSG_HDR + Msghdr.MSG_NAMELEN);
            int flags = m.get(JAVA_INT, h + Mmsghdr.MSG_HDR + Msghdr.MSG_FLAGS);
            long controlLen = m.get(JAVA_LONG, h + Mmsghdr.MSG_HDR + Msghdr.MSG_CONTROLLEN);
            if (controlLen == 0) {
                sink.received(id, payloadView[i], Math.min(len, size), len, nameView[i], nameLen, flags, 0, 0);
            } else {
                long control = controlsAt(batch) + (long) DatagramControl.SPACE * i;
                sink.received(id, payloadView[i], Math.min(len, size), len, nameView[i], nameLen, flags,
                        DatagramControl.groSegmentSize(m, control, controlLen),
                        DatagramControl.softwareTimestamp(m, control, controlLen));
            }
        }
    }

    @Override
    protected boolean stillOpen(int id, int fd) {
        return fds[id] == fd;
    }

    @Override
    protected boolean isOpen(int id) {
        return fds[id] >= 0;
    }

    @Override
    public void flush() {
        sendQueued();
    }

    /** sendmmsg of everything queued; a refusal drops the rest of the queue, counted. */
    @Override
    protected void send(int id) {
        DatagramSendRing r = rings[id];
        while (r.unsubmitted() > 0) {
            int n = r.contiguousUnsubmitted();
            int first = r.firstUnsubmitted();
            loop.countSyscalls(1);
            int sent = Datagrams.sendmmsg(fds[id], r.headersFrom(first), n, MSG_DONTWAIT);
            if (sent < 0) {
                if (sent == -Errno.EINTR) {
                    continue;
                }
                if (sent != -Errno.EAGAIN) {
                    sink.failed(id, -sent); // an ICMP error met by the send
                }
                if (fds[id] >= 0) {
                    sink.sendDropped(id, r.dropUnsubmitted(), -sent);
                }
                return;
            }
            if (sent > 0) {
                loop.countSendBatch(sent);
            }
            r.submitted(sent);
            r.release(sent);
            sink.sent(id, sent);
        }
    }

    @Override
    public void close(int id) {
        int fd = fds[id];
        if (fd < 0) {
            return;
        }
        fds[id] = -1;
        forgetQueued(id);
        loop.countSyscalls(1);
        Files.closeQuietly(fd); // also leaves the epoll set
        arenas[id].close();
        arenas[id] = null;
        receives[id] = null;
        errorQueues[id] = null;
        payloadViews[id] = null;
        nameViews[id] = null;
        rings[id] = null;
        sink.released(id);
    }

    @Override
    public void closeAll() {
        for (int id = 0; id < MAX_ENDPOINTS; id++) {
            close(id);
        }
    }

}
