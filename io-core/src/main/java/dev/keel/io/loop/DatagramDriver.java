package dev.keel.io.loop;

import dev.keel.ffm.Datagrams;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.Mmsghdr;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_ERROR;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A transport's datagram side: receives on an endpoint's socket in batches and sends what its
 * {@link DatagramSendRing} holds, reporting to the loop's {@link DatagramSink}. Endpoints are
 * named by a small id the loop gives; the driver holds at most {@link #MAX_ENDPOINTS}. Made by
 * {@link Poller#datagrams}, flushed by the poller at the start of each poll (so what a pass
 * queued leaves in one batch) and closed with it. Loop thread only.
 *
 * <p>Both transports read an endpoint's error queue the same way, here
 * ({@link #readErrorQueue}): ICMP errors kept there (IP_RECVERR) and transmit timestamps.
 */
public abstract class DatagramDriver {
    /** Datagram endpoints per loop. */
    public static final int MAX_ENDPOINTS = 64;
    /**
     * Error-queue entries read per recvmmsg(MSG_ERRQUEUE): the default batch, so that the
     * transmit timestamps of a pass's sends are usually read with one call.
     */
    public static final int ERROR_SLOTS = 32;
    /** Bytes of one error-queue read slot: mmsghdr, sockaddr (the datagram's destination), control. */
    private static final long ERROR_SLOT = Mmsghdr.SIZE + SocketAddresses.STORAGE_SIZE + DatagramControl.ERROR_SPACE;
    /** Bytes of one endpoint's error-queue reads, laid out by {@link #layOutErrorQueue}. */
    protected static final long ERROR_QUEUE_BYTES = ERROR_SLOT * ERROR_SLOTS;
    /** Offset of the control areas in an endpoint's error-queue memory. */
    private static final long ERROR_CONTROLS = (Mmsghdr.SIZE + SocketAddresses.STORAGE_SIZE) * ERROR_SLOTS;

    protected final DatagramSink sink;
    /** Per endpoint: its send ring, from open until its memory is freed. */
    protected final DatagramSendRing[] rings = new DatagramSendRing[MAX_ENDPOINTS];
    /** Per endpoint: it queued datagrams since the last flush. */
    private final boolean[] dirty = new boolean[MAX_ENDPOINTS];
    private boolean anyDirty;

    protected DatagramDriver(DatagramSink sink) {
        this.sink = sink;
    }

    /**
     * Starts receiving on bound (and maybe connected) non-blocking socket {@code fd} as endpoint
     * {@code id}: batches of up to {@code batch} datagrams of up to {@code maxDatagram} bytes
     * (epoll), or {@code receiveBuffers} provided buffers of that size (io_uring); with
     * {@code sendTimestamps}, the socket queues transmit timestamps on its error queue and the
     * driver reads them ({@link DatagramControl#tellQueued}).
     */
    public abstract void open(int id, int fd, DatagramSendRing sends, int batch, int maxDatagram,
                              int receiveBuffers, boolean sendTimestamps);

    /** Endpoint {@code id} queued datagrams: they leave at the next {@link #flush} (or now, if its ring is full). */
    public final void queued(int id) {
        DatagramSendRing r = rings[id];
        if (r.unsubmitted() == r.capacity()) {
            send(id);
        } else if (!dirty[id]) {
            dirty[id] = true;
            anyDirty = true;
        }
    }

    /** For {@link #flush}: sends what each open endpoint queued since the last time. */
    protected final void sendQueued() {
        if (!anyDirty) {
            return;
        }
        anyDirty = false;
        for (int id = 0; id < MAX_ENDPOINTS; id++) {
            if (dirty[id]) {
                dirty[id] = false;
                if (isOpen(id)) {
                    send(id);
                }
            }
        }
    }

    /** Endpoint {@code id} is closing: what it queued is not sent. */
    protected final void forgetQueued(int id) {
        dirty[id] = false;
    }

    /** Sends (or prepares the sending of) everything endpoint {@code id}'s ring holds unsent. */
    protected abstract void send(int id);

    /** Whether endpoint {@code id} is open (not closed by the application). */
    protected abstract boolean isOpen(int id);

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

    /**
     * Whether endpoint {@code id} is still open on socket {@code fd}: a handler called while
     * the error queue is read may close it, and its memory with it.
     */
    protected abstract boolean stillOpen(int id, int fd);

    /**
     * Makes the {@code n} mmsghdrs at {@code m} ready for the next recvmmsg: the lengths the
     * kernel wrote back into them (sockaddr, control: {@code controlLength}) and their flags
     * set again.
     */
    protected static void resetHeaders(MemorySegment m, int n, long controlLength) {
        for (int i = 0; i < n; i++) {
            long h = Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR;
            m.set(JAVA_INT, h + Msghdr.MSG_NAMELEN, (int) SocketAddresses.STORAGE_SIZE);
            m.set(JAVA_INT, h + Msghdr.MSG_FLAGS, 0);
            m.set(JAVA_LONG, h + Msghdr.MSG_CONTROLLEN, controlLength);
        }
    }

    /**
     * Lays out {@link #ERROR_QUEUE_BYTES} at {@code e} as {@link #ERROR_SLOTS} error-queue reads:
     * an mmsghdr array, then sockaddrs, then control areas; no payload (the datagram an error is
     * about is cut, MSG_TRUNC; a transmit timestamp comes without one, OPT_TSONLY).
     */
    protected static void layOutErrorQueue(MemorySegment e) {
        for (int i = 0; i < ERROR_SLOTS; i++) {
            long name = Mmsghdr.SIZE * ERROR_SLOTS + SocketAddresses.STORAGE_SIZE * i;
            Datagrams.setMsghdr(e, Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR, e.address() + name,
                    (int) SocketAddresses.STORAGE_SIZE, 0, e.address() + ERROR_CONTROLS
                            + (long) DatagramControl.ERROR_SPACE * i, DatagramControl.ERROR_SPACE);
        }
    }

    /**
     * Reads endpoint {@code id}'s error queue (laid out at {@code e}) with recvmmsg(MSG_ERRQUEUE)
     * of {@link #ERROR_SLOTS} entries until one brings fewer, telling the sink each error's
     * errno and each transmit timestamp ({@link DatagramControl#tellQueued}). Called when the
     * socket reported POLLERR, which the kernel raises while the queue holds anything
     * (whatever the interest set) or an error is pending. Read dry, because what is queued
     * takes room in the socket's receive buffer: stamps left behind at the rate datagrams are
     * sent would crowd out the datagrams received. The call that finds the queue empty fails
     * with EAGAIN and learns it by a capturing call (see {@link Datagrams}), which may
     * allocate: that happens only when the queue held an exact multiple of the slots. With
     * nothing queued at all, reads (and so clears) the pending socket error, which would
     * otherwise be reported on every wait.
     */
    protected final void readErrorQueue(PollerHost loop, int id, int fd, MemorySegment e) {
        int n;
        int read = 0;
        do {
            resetHeaders(e, ERROR_SLOTS, DatagramControl.ERROR_SPACE);
            loop.countSyscalls(1);
            n = Datagrams.recvmmsg(fd, e, ERROR_SLOTS, Datagrams.MSG_ERRQUEUE_FLAGS);
            for (int i = 0; i < n && stillOpen(id, fd); i++) {
                long controlLen = e.get(JAVA_LONG, Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR + Msghdr.MSG_CONTROLLEN);
                DatagramControl.tellQueued(sink, id, e, ERROR_CONTROLS + (long) DatagramControl.ERROR_SPACE * i,
                        controlLen);
            }
            read += Math.max(n, 0);
        } while (n == ERROR_SLOTS && stillOpen(id, fd));
        if (!stillOpen(id, fd)) {
            return;
        }
        if (n < 0 && n != -Errno.EAGAIN) {
            sink.failed(id, -n);
        }
        if (read == 0) {
            loop.countSyscalls(1);
            int error = Sockets.getInt(fd, SOL_SOCKET, SO_ERROR);
            if (error != 0) {
                sink.failed(id, error);
            }
        }
    }
}
