package dev.keel.io.uring;

import dev.keel.ffm.Datagrams;
import dev.keel.ffm.Files;
import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.ProvidedBufferRing;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.IoUringRecvmsgOut;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;
import dev.keel.io.loop.DatagramControl;
import dev.keel.io.loop.DatagramDriver;
import dev.keel.io.loop.DatagramSendRing;
import dev.keel.io.loop.DatagramSink;
import dev.keel.io.loop.PollerHost;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_RECV_MULTISHOT;
import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLERR;
import static dev.keel.ffm.gen.LinuxConstants.MSG_TRUNC;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Datagram endpoints on io_uring. Each endpoint has one multishot IORING_OP_RECVMSG that picks
 * buffers from the endpoint's own provided buffer ring (group {@code 1 + id}; group 0 is the
 * loop's TCP receives): every completion is one datagram, its buffer laid out by the kernel as
 * {@code struct io_uring_recvmsg_out}, the sender's sockaddr (msg_namelen bytes), then the
 * payload; the buffer goes back to the ring as soon as the handler returned. Queued sends
 * become one IORING_OP_SENDMSG SQE per datagram at the start of the poll, so that the pass's
 * one io_uring_enter submits them all; with MSG_DONTWAIT a full socket buffer completes with
 * EAGAIN (dropped, counted) instead of waiting. Completions free send slots in order: a
 * sendmsg with MSG_DONTWAIT completes inline, in submission order.
 *
 * <p>An endpoint with transmit timestamps also keeps a POLLERR poll in the kernel and reads
 * its error queue when it completes ({@link #armErrorQueue}).
 *
 * <p>Closing cancels the receive (and the poll); the socket is closed and the endpoint's
 * memory freed when the receive's last completion, the poll's and every send's came back.
 */
final class UringDatagrams extends DatagramDriver {
    private static final long HEADER = IoUringRecvmsgOut.SIZE;
    private static final long NAME = SocketAddresses.STORAGE_SIZE;
    private static final long CONTROL = DatagramControl.SPACE;

    private final PollerHost loop;
    private final UringPoller poller;
    private final IoUringRing ring;
    private final IoUringPrep prep;
    private final int[] fds = new int[MAX_ENDPOINTS];
    private final boolean[] live = new boolean[MAX_ENDPOINTS];
    private final boolean[] recvArmed = new boolean[MAX_ENDPOINTS];
    /**
     * Per endpoint with transmit timestamps: its error-queue reads ({@link #layOutErrorQueue}),
     * and whether its POLLERR poll is in the kernel.
     */
    private final MemorySegment[] errorQueues = new MemorySegment[MAX_ENDPOINTS];
    private final boolean[] errorQueueArmed = new boolean[MAX_ENDPOINTS];
    private final ProvidedBufferRing[] buffers = new ProvidedBufferRing[MAX_ENDPOINTS];
    private final MemorySegment[] memory = new MemorySegment[MAX_ENDPOINTS];
    private final MemorySegment[] views = new MemorySegment[MAX_ENDPOINTS];
    /** Per endpoint, per provided buffer: the payload and sockaddr views handed to the sink, made once. */
    private final MemorySegment[][] payloadViews = new MemorySegment[MAX_ENDPOINTS][];
    private final MemorySegment[][] nameViews = new MemorySegment[MAX_ENDPOINTS][];
    private final Arena[] arenas = new Arena[MAX_ENDPOINTS];
    private final int[] bufferSizes = new int[MAX_ENDPOINTS];
    private int open;
    /** Datagrams delivered, and sendmsg SQEs prepared, since the last flush: one batch each way per pass. */
    private int receivedThisPass;
    private int sendsThisPass;

    UringDatagrams(DatagramSink sink, PollerHost loop, UringPoller poller, IoUringRing ring) {
        super(sink);
        this.loop = loop;
        this.poller = poller;
        this.ring = ring;
        this.prep = ring.prep();
        java.util.Arrays.fill(fds, -1);
    }

    @Override
    public void open(int id, int fd, DatagramSendRing sends, int batch, int maxDatagram, int receiveBuffers,
                     boolean sendTimestamps) {
        Arena arena = Arena.ofConfined();
        int size = (int) (HEADER + NAME + CONTROL + maxDatagram);
        MemorySegment m = arena.allocate(Msghdr.SIZE + (long) size * receiveBuffers, 64);
        // The msghdr only tells the kernel how much room the name and the control data take.
        Datagrams.setMsghdr(m, 0, 0, (int) NAME, 0, 0, CONTROL);
        ProvidedBufferRing group = ProvidedBufferRing.register(ring, receiveBuffers, 1 + id);
        for (int bid = 0; bid < receiveBuffers; bid++) {
            group.add(m.address() + Msghdr.SIZE + (long) size * bid, size, bid, bid);
        }
        group.advance(receiveBuffers);
        payloadViews[id] = new MemorySegment[receiveBuffers];
        nameViews[id] = new MemorySegment[receiveBuffers];
        for (int bid = 0; bid < receiveBuffers; bid++) {
            long at = Msghdr.SIZE + (long) size * bid;
            payloadViews[id][bid] = m.asSlice(at + HEADER + NAME + CONTROL, maxDatagram);
            nameViews[id][bid] = m.asSlice(at + HEADER, NAME);
        }
        fds[id] = fd;
        live[id] = true;
        rings[id] = sends;
        buffers[id] = group;
        memory[id] = m;
        views[id] = m.asSlice(Msghdr.SIZE);
        arenas[id] = arena;
        bufferSizes[id] = size;
        open++;
        arm(id);
        if (sendTimestamps) {
            errorQueues[id] = arena.allocate(ERROR_QUEUE_BYTES, 64);
            layOutErrorQueue(errorQueues[id]);
            armErrorQueue(id);
        }
    }

    private void arm(int id) {
        int s = poller.sqe();
        // MSG_TRUNC: payloadlen says the datagram's real size, even when it was cut.
        prep.recvmsg(s, fds[id], memory[id].address(), MSG_TRUNC,
                UringOps.userData(UringOps.OP_DGRAM_RECV, id));
        prep.bufferSelect(s, 1 + id);
        prep.addIoprio(s, IORING_RECV_MULTISHOT);
        recvArmed[id] = true;
    }

    /** A completion of endpoint {@code id}'s multishot recvmsg. */
    void recvDone(int id, int res, int flags) {
        boolean more = IoUring.hasMore(flags);
        if (!more) {
            recvArmed[id] = false;
        }
        if (IoUring.hasBuffer(flags)) {
            int bid = IoUring.bufferId(flags);
            ProvidedBufferRing group = buffers[id];
            group.taken(bid);
            if (live[id] && res >= 0) {
                deliver(id, bid, res);
            }
            if (buffers[id] == group) {
                int size = bufferSizes[id];
                group.provide(memory[id].address() + Msghdr.SIZE + (long) size * bid, size, bid);
            }
        } else if (res < 0 && live[id] && res != -Errno.ENOBUFS && res != -Errno.ECANCELED) {
            sink.failed(id, -res); // ECONNREFUSED on a connected endpoint, and the like
        } else if (res == -Errno.ENOBUFS) {
            loop.receiveStarved();
        }
        if (!recvArmed[id]) {
            if (live[id]) {
                arm(id);
            } else {
                releaseIfIdle(id);
            }
        }
    }

    private void deliver(int id, int bid, int res) {
        MemorySegment v = views[id];
        long at = (long) bufferSizes[id] * bid;
        int nameLen = v.get(JAVA_INT, at + IoUringRecvmsgOut.NAMELEN);
        int payloadLen = v.get(JAVA_INT, at + IoUringRecvmsgOut.PAYLOADLEN);
        int msgFlags = v.get(JAVA_INT, at + IoUringRecvmsgOut.FLAGS);
        int controlLen = v.get(JAVA_INT, at + IoUringRecvmsgOut.CONTROLLEN);
        long control = Math.min(controlLen, CONTROL);
        int segment = 0;
        long timestamp = 0;
        if (control != 0) {
            segment = DatagramControl.groSegmentSize(v, at + HEADER + NAME, control);
            timestamp = DatagramControl.softwareTimestamp(v, at + HEADER + NAME, control);
        }
        int got = (int) Math.min(payloadLen, res - HEADER - NAME - CONTROL);
        receivedThisPass++;
        sink.received(id, payloadViews[id][bid], got, payloadLen, nameViews[id][bid], (int) Math.min(nameLen, NAME),
                msgFlags, segment, timestamp);
    }

    /**
     * A one-shot IORING_OP_POLL_ADD for POLLERR on endpoint {@code id}'s socket, which the
     * kernel raises while its error queue holds anything. It completes at once when the queue
     * is not empty, and the loop is the queue's only reader, so the read that follows finds at
     * least one entry: a recvmmsg that does not fail, as it would (and learn its errno by a
     * capturing call) on an empty queue. A multishot recvmsg of the error queue was tried
     * first: this kernel ended it after every entry, one entry per loop pass, and stamps
     * queued faster than that took the socket's receive buffer from its datagrams.
     */
    private void armErrorQueue(int id) {
        prep.pollAdd(poller.sqe(), fds[id], EPOLLERR, UringOps.userData(UringOps.OP_DGRAM_ERRQUEUE, id));
        errorQueueArmed[id] = true;
    }

    /**
     * The POLLERR poll of endpoint {@code id} completed: the error queue read
     * ({@link #readErrorQueue}: read dry, or the pending error read), the
     * poll made again. A failed poll is told once and not made again: it would fail at once.
     */
    void errorQueueDone(int id, int res) {
        errorQueueArmed[id] = false;
        if (!live[id]) {
            releaseIfIdle(id);
            return;
        }
        if (res < 0) {
            if (res != -Errno.ECANCELED) {
                sink.failed(id, -res);
            }
            return;
        }
        readErrorQueue(loop, id, fds[id], errorQueues[id]);
        if (live[id]) {
            armErrorQueue(id);
        } else {
            releaseIfIdle(id);
        }
    }

    @Override
    protected boolean stillOpen(int id, int fd) {
        return live[id] && fds[id] == fd;
    }

    @Override
    protected boolean isOpen(int id) {
        return live[id];
    }

    /**
     * Prepares what every endpoint queued, at the start of a pass, and counts the batches: the
     * datagrams the previous pass reaped (one io_uring_enter brought them) and the sends this
     * pass's io_uring_enter submits.
     */
    @Override
    public void flush() {
        if (receivedThisPass > 0) {
            loop.countReceiveBatch(receivedThisPass);
            receivedThisPass = 0;
        }
        sendQueued();
        if (sendsThisPass > 0) {
            loop.countSendBatch(sendsThisPass);
            sendsThisPass = 0;
        }
    }

    /** One sendmsg SQE per queued datagram; the pass's io_uring_enter submits them. */
    @Override
    protected void send(int id) {
        DatagramSendRing r = rings[id];
        int fd = fds[id];
        long userData = UringOps.userData(UringOps.OP_DGRAM_SEND, id);
        for (int n = r.unsubmitted(); n > 0; n--) {
            int slot = r.firstUnsubmitted();
            prep.sendmsg(poller.sqe(), fd, r.msghdrAddress(slot), MSG_DONTWAIT, userData);
            r.submitted(1);
            sendsThisPass++;
        }
    }

    /** A sendmsg of endpoint {@code id} completed. */
    void sendDone(int id, int res) {
        DatagramSendRing r = rings[id];
        r.release(1);
        if (res >= 0) {
            sink.sent(id, 1);
        } else if (live[id]) {
            if (res != -Errno.EAGAIN) {
                sink.failed(id, -res);
            }
            sink.sendDropped(id, 1, -res);
        }
        if (!live[id]) {
            releaseIfIdle(id);
        }
    }

    @Override
    public void close(int id) {
        if (!live[id]) {
            return;
        }
        live[id] = false;
        forgetQueued(id);
        if (recvArmed[id]) {
            prep.asyncCancel(poller.sqe(), UringOps.userData(UringOps.OP_DGRAM_RECV, id), 0,
                    UringOps.userData(UringOps.OP_IGNORE, 0));
        }
        if (errorQueueArmed[id]) {
            prep.asyncCancel(poller.sqe(), UringOps.userData(UringOps.OP_DGRAM_ERRQUEUE, id), 0,
                    UringOps.userData(UringOps.OP_IGNORE, 0));
        }
        // The socket is closed in free, once the kernel holds nothing of the endpoint: a request
        // prepared this pass and not yet submitted names the socket by its number, and a socket
        // opened meanwhile (another endpoint, in the same pass) would get that number and the
        // request with it — its datagrams taken by a receive cancelled a moment later.
        releaseIfIdle(id);
    }

    private void releaseIfIdle(int id) {
        if (!live[id] && !recvArmed[id] && !errorQueueArmed[id] && rings[id] != null && rings[id].inFlight() == 0) {
            free(id);
        }
    }

    private void free(int id) {
        errorQueueArmed[id] = false;
        if (fds[id] >= 0) {
            loop.countSyscalls(1);
            Files.closeQuietly(fds[id]);
            fds[id] = -1;
        }
        buffers[id].close();
        buffers[id] = null;
        arenas[id].close();
        arenas[id] = null;
        memory[id] = null;
        errorQueues[id] = null;
        views[id] = null;
        payloadViews[id] = null;
        nameViews[id] = null;
        rings[id] = null;
        open--;
        sink.released(id);
    }

    @Override
    public void closeAll() {
        for (int id = 0; id < MAX_ENDPOINTS; id++) {
            close(id);
        }
    }

    @Override
    public boolean busy() {
        return open > 0;
    }

    /** After the ring is closed (the kernel holds nothing): frees what closed endpoints still had. */
    void freeAll() {
        for (int id = 0; id < MAX_ENDPOINTS; id++) {
            if (rings[id] != null) {
                live[id] = false;
                free(id);
            }
        }
    }

}
