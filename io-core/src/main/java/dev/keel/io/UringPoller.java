package dev.keel.io;

import dev.keel.ffm.EventFd;
import dev.keel.ffm.Files;
import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.IoUringRegister;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.keel.ffm.gen.LinuxConstants.EPOLLIN;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLOUT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ASYNC_CANCEL_ALL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ASYNC_CANCEL_FD_FIXED;
import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_F_NOTIF;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FILE_INDEX_ALLOC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_RECVSEND_FIXED_BUF;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_DEFER_TASKRUN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_CQ_OVERFLOW;
import static dev.keel.ffm.gen.LinuxConstants.IOSQE_FIXED_FILE;
import static dev.keel.ffm.gen.LinuxConstants.IOSQE_IO_HARDLINK;
import static dev.keel.ffm.gen.LinuxConstants.MSG_NOSIGNAL;
import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.io.ConnectionTable.FD;
import static dev.keel.io.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.ConnectionTable.FLAG_DIRTY;
import static dev.keel.io.ConnectionTable.FLAG_INPUT_CLOSED;
import static dev.keel.io.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.ConnectionTable.FLAG_READ_PAUSED;
import static dev.keel.io.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.ConnectionTable.IN_FLIGHT;
import static dev.keel.io.ConnectionTable.POLLER_STATE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The io_uring transport. One ring per loop, made and driven on the loop thread
 * (SINGLE_ISSUER + DEFER_TASKRUN where the kernel has them, so completions are posted only
 * while this thread is in io_uring_enter; COOP_TASKRUN otherwise; SQPOLL on request), its fd
 * registered. A loop pass makes one io_uring_enter that submits what the pass prepared and
 * waits for completions:
 * <ul>
 * <li>one multishot accept on the listener, into process fds or fixed file slots;</li>
 * <li>one multishot recv per connection, into a provided buffer ring lent from the loop's pool
 *     and refilled as each completion is handled;</li>
 * <li>output is copied into the connection's queue ({@link OutboundQueue}) and sent at the end
 *     of the pass, one send in flight per connection (a send of the oldest buffer, a gathered
 *     sendmsg, or SEND_ZC above a threshold), partial sends continued from where they stopped;</li>
 * <li>cross-thread wake-ups arrive as a multishot poll on the loop's eventfd.</li>
 * </ul>
 *
 * <p>Kernel ownership: a connection's slot counts the requests in flight that name it
 * ({@link ConnectionTable#IN_FLIGHT}). Closing cancels them all and closes the socket through
 * the ring; the slot, its queued buffers and the onClose call wait until the last completion
 * came back, so no buffer is reused while the kernel may still read it. Receive buffers that
 * arrive for a closed connection go straight back to the ring; an fd accepted after accepting
 * stopped is closed.
 */
final class UringPoller extends Poller {
    // user_data: the operation in the high 32 bits, the connection's slot in the low 32.
    private static final int OP_WAKE = 1;
    private static final int OP_ACCEPT = 2;
    private static final int OP_RECV = 3;
    private static final int OP_SEND = 4;
    private static final int OP_POLL_OUT = 5;
    private static final int OP_SHUTDOWN = 6;
    private static final int OP_CANCEL = 7;
    private static final int OP_CLOSE = 8;
    private static final int OP_IGNORE = 9;

    // Bits of a connection's poller state.
    private static final int RECV_ARMED = 1;
    private static final int RECV_CANCELLING = 1 << 1;
    private static final int SEND_BUSY = 1 << 2;
    private static final int POLL_OUT_ARMED = 1 << 3;
    private static final int EOF_HELD = 1 << 4;
    private static final int STARVED = 1 << 5;

    /** Gathered sends in flight at once, and iovecs per gathered send. */
    private static final int GATHER_SLOTS = 256;
    private static final int GATHER_IOV = 16;
    private static final int REAP_ROUNDS = 4;

    private final IoUringRing.CompletionHandler onCompletion = this::complete;

    private LoopOptions options;
    private ConnectionTable table;
    private BufferPool pool;
    private OutboundQueue outbound;
    private LoopStats stats;
    private IoUringRing ring;
    private IoUringPrep prep;
    private UringReceiveBuffers receive;
    private boolean deferTaskrun;
    private boolean direct;
    private int fileFlag;
    private int listenFd = -1;
    private int wakeFd = -1;
    private MemorySegment wakeScratch;
    private boolean acceptArmed;
    private boolean acceptCancelling;
    /** Retired connections whose requests are still in flight. */
    private int zombies;
    private boolean drained = true;

    private int[] dirty;
    private int dirtyCount;

    private MemorySegment gather;
    private MemorySegment[] gatherIovecs;
    private int[] gatherFree;
    private int gatherFreeCount;
    private int[] gatherOf;
    private int[] zcResult;
    private long gatherStride;

    UringPoller(EventLoop loop) {
        super(loop);
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }

    @Override
    int[] bufferCounts(LoopOptions o) {
        int[] counts = o.bufferCounts.clone();
        counts[UringReceiveBuffers.sizeClass(o)] += o.providedBufferCount;
        return counts;
    }

    @Override
    void setUp(int listenFd, int wakeFd) {
        options = loop.options;
        table = loop.table;
        pool = loop.pool;
        outbound = loop.outbound;
        stats = loop.stats();
        this.listenFd = listenFd;
        this.wakeFd = wakeFd;
        direct = options.directDescriptors;
        fileFlag = direct ? IOSQE_FIXED_FILE : 0;
        ring = UringRings.open(options);
        prep = ring.prep();
        deferTaskrun = (ring.setupFlags() & IORING_SETUP_DEFER_TASKRUN) != 0;
        UringRings.registerRingFd(ring);
        if (direct) {
            UringRings.registerFileTable(ring, options.maxConnections);
            if (listenFd >= 0) {
                loop.configure(listenFd); // direct sockets have no fd for setsockopt: they inherit the listener's
            }
        }
        if (options.registeredBuffers) {
            UringRings.registerPool(ring, pool.region(), loop.arena);
        }
        receive = new UringReceiveBuffers(ring, pool, options, loop.readBuffer);
        int slots = options.maxConnections;
        dirty = new int[Math.max(64, slots)];
        gatherStride = Msghdr.SIZE + Uio.iovecArraySize(GATHER_IOV);
        gather = loop.arena.allocate(GATHER_SLOTS * gatherStride, 8);
        gatherIovecs = new MemorySegment[GATHER_SLOTS];
        gatherFree = new int[GATHER_SLOTS];
        for (int g = 0; g < GATHER_SLOTS; g++) {
            // msghdr g, then its iovecs; msg_iov is set once, msg_iovlen per send.
            gatherFree[g] = g;
            gatherIovecs[g] = gather.asSlice(g * gatherStride + Msghdr.SIZE, Uio.iovecArraySize(GATHER_IOV));
            gather.set(JAVA_LONG, g * gatherStride + Msghdr.MSG_IOV, gatherIovecs[g].address());
        }
        gatherFreeCount = GATHER_SLOTS;
        gatherOf = new int[slots];
        Arrays.fill(gatherOf, -1);
        zcResult = new int[slots];
        wakeScratch = loop.arena.allocate(Long.BYTES, Long.BYTES);
        prep.pollMultishot(sqe(), wakeFd, EPOLLIN, userData(OP_WAKE, 0));
    }

    private static long userData(int op, int slot) {
        return ((long) op << 32) | (slot & 0xFFFF_FFFFL);
    }

    // ---------------------------------------------------------------- the pass

    @Override
    int poll(int timeoutMillis) {
        flushDirty();
        if (timeoutMillis != 0 && options.busyPollNanos > 0) {
            long spinUntil = loop.now + options.busyPollNanos;
            do {
                enterWithoutWaiting();
                if (ring.cqReady() > 0 || loop.hasTasks()) {
                    return reap();
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - spinUntil < 0);
        }
        if (timeoutMillis != 0 && loop.prepareToBlock()) {
            if (timeoutMillis < 0) {
                ring.submitAndWait(1);
            } else {
                ring.submitAndWait(1, timeoutMillis * 1_000_000L);
            }
            loop.awake();
        } else {
            if (timeoutMillis != 0) {
                loop.awake();
            }
            enterWithoutWaiting();
        }
        return reap();
    }

    /** Submits and, under DEFER_TASKRUN, runs the pending task work that posts completions. */
    private void enterWithoutWaiting() {
        if (deferTaskrun) {
            ring.submitAndWait(0);
        } else {
            ring.submit();
        }
    }

    /**
     * Handles every completion ready, bringing in overflowed ones (kept by the kernel when the
     * CQ was full, IORING_FEAT_NODROP) and task-work ones (COOP_TASKRUN) as it goes.
     */
    private int reap() {
        int n = 0;
        for (int round = 0; round < REAP_ROUNDS; round++) {
            n += ring.forEachCompletion(onCompletion);
            if (ring.cqNeedsFlush()) {
                if ((ring.sqFlags() & IORING_SQ_CQ_OVERFLOW) != 0) {
                    stats.completionOverflows++;
                }
                ring.flushCompletions();
            } else if (ring.cqReady() == 0) {
                break;
            }
        }
        return n;
    }

    /** Reserves an SQE, submitting what is queued when the SQ is full. */
    private int sqe() {
        int s = ring.nextSqe();
        for (int tries = 0; s < 0; tries++) {
            if (tries > 1_000_000) {
                throw new IllegalStateException("io_uring submission queue stays full");
            }
            ring.submit();
            s = ring.nextSqe();
            if (s < 0) {
                Thread.onSpinWait(); // an SQPOLL thread consumes asynchronously
            }
        }
        return s;
    }

    // ---------------------------------------------------------------- completions

    private void complete(long userData, int res, int flags) {
        int op = (int) (userData >>> 32);
        int slot = (int) userData;
        switch (op) {
            case OP_RECV -> recvDone(slot, res, flags);
            case OP_SEND -> sendCompletion(slot, res, flags);
            case OP_ACCEPT -> acceptDone(res, flags);
            case OP_WAKE -> {
                EventFd.read(wakeFd, wakeScratch);
                if (!IoUring.hasMore(flags)) {
                    prep.pollMultishot(sqe(), wakeFd, EPOLLIN, userData(OP_WAKE, 0));
                }
            }
            case OP_POLL_OUT -> {
                clearState(slot, POLL_OUT_ARMED);
                if (res >= 0 && table.hasFlag(slot, FLAG_OPEN)) {
                    loop.outputProgress(slot, loop.connection(slot));
                }
                opDone(slot);
            }
            case OP_SHUTDOWN -> {
                if (res < 0 && res != -Errno.ENOTCONN && table.hasFlag(slot, FLAG_OPEN)) {
                    loop.closeNow(slot, CloseReason.RESET);
                }
                opDone(slot);
            }
            case OP_CANCEL, OP_CLOSE -> opDone(slot);
            case OP_IGNORE -> {
                // the cancel of an accept, the close of a refused fixed file: nothing to account
            }
            default -> throw new IllegalStateException("completion of unknown operation " + op);
        }
    }

    /** One request naming {@code slot} finished; the last one of a closed connection frees it. */
    private void opDone(int slot) {
        int left = table.getInt(slot, IN_FLIGHT) - 1;
        table.setInt(slot, IN_FLIGHT, left);
        if (left == 0 && !table.hasFlag(slot, FLAG_OPEN) && loop.connection(slot) != null) {
            zombies--;
            loop.released(slot);
        }
    }

    private void opStarted(int slot, int stateBits) {
        table.setInt(slot, IN_FLIGHT, table.getInt(slot, IN_FLIGHT) + 1);
        table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | stateBits);
    }

    private void clearState(int slot, int bits) {
        table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) & ~bits);
    }

    private boolean hasState(int slot, int bits) {
        return (table.getInt(slot, POLLER_STATE) & bits) != 0;
    }

    private int kernelFd(int slot) {
        return table.getInt(slot, FD);
    }

    // ---------------------------------------------------------------- accept

    @Override
    void startAccepting() {
        if (!acceptArmed && listenFd >= 0) {
            armAccept();
        }
    }

    private void armAccept() {
        int s = sqe();
        if (direct) {
            // SOCK_CLOEXEC has no meaning for a fixed file and the kernel refuses it there.
            prep.acceptDirect(s, listenFd, 0, true, IORING_FILE_INDEX_ALLOC, userData(OP_ACCEPT, 0));
        } else {
            prep.accept(s, listenFd, 0L, 0L, SOCK_NONBLOCK | SOCK_CLOEXEC, true, userData(OP_ACCEPT, 0));
        }
        acceptArmed = true;
    }

    @Override
    void stopAccepting() {
        if (acceptArmed && !acceptCancelling) {
            prep.asyncCancel(sqe(), userData(OP_ACCEPT, 0), 0, userData(OP_IGNORE, 0));
            acceptCancelling = true;
        }
    }

    private void acceptDone(int res, int flags) {
        if (!IoUring.hasMore(flags)) {
            acceptArmed = false;
            acceptCancelling = false;
        }
        if (res >= 0) {
            if (loop.accepting()) {
                loop.accepted(res);
            } else {
                stats.rejected++;
                discardAccepted(res); // accepted while its cancel was on the way: not served, not leaked
            }
        } else if (res == -Errno.EMFILE || res == -Errno.ENFILE || res == -Errno.ENOBUFS || res == -Errno.ENOMEM) {
            stats.acceptFailures++;
            if (loop.accepting()) {
                loop.pauseAccepting();
            }
        }
        if (!acceptArmed && loop.accepting()) {
            armAccept();
        }
    }

    @Override
    void discardAccepted(int fd) {
        if (direct) {
            prep.closeDirect(sqe(), fd, userData(OP_IGNORE, 0));
        } else {
            Files.close(fd);
        }
    }

    @Override
    int publicFd(int fd) {
        return direct ? -1 : fd;
    }

    @Override
    void register(int slot, Connection c) {
        if (!direct) {
            loop.configure(c.fd());
        }
        table.setInt(slot, POLLER_STATE, 0);
        markDirty(slot); // the recv is armed with the pass's other submissions
    }

    // ---------------------------------------------------------------- receive

    private void recvDone(int slot, int res, int flags) {
        boolean more = IoUring.hasMore(flags);
        if (!more) {
            clearState(slot, RECV_ARMED | RECV_CANCELLING);
        }
        int bid = IoUring.hasBuffer(flags) ? IoUring.bufferId(flags) : -1;
        if (bid >= 0) {
            receive.taken();
        }
        if (!table.hasFlag(slot, FLAG_OPEN)) {
            if (bid >= 0) {
                receive.provide(bid);
            }
        } else if (res > 0 && bid >= 0) {
            received(slot, bid, res);
        } else if (res == 0) {
            if (receive.holds(slot)) {
                table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | EOF_HELD);
            } else {
                loop.inputClosed(slot, loop.connection(slot));
            }
        } else if (res == -Errno.ENOBUFS) {
            stats.receiveStarvations++;
            markDirty(slot);
        } else if (res != -Errno.ECANCELED) {
            loop.closeNow(slot, res == -Errno.ECONNRESET || res == -Errno.EPIPE ? CloseReason.RESET : CloseReason.ERROR);
        }
        if (!more) {
            if (table.hasFlag(slot, FLAG_OPEN)) {
                markDirty(slot); // re-armed with the next submissions if reading is still wanted
            }
            opDone(slot);
        }
    }

    private void received(int slot, int bid, int n) {
        if (table.hasFlag(slot, FLAG_CLOSING)) {
            receive.provide(bid); // a graceful close reads no more
        } else if (table.hasFlag(slot, FLAG_READ_PAUSED) || receive.holds(slot)) {
            receive.hold(slot, bid, n); // paused: kept, in order, until reading resumes
        } else {
            deliver(slot, loop.connection(slot), bid, n);
        }
    }

    /**
     * Hands the {@code n} bytes of receive buffer {@code bid} to the handler, then lends the
     * buffer out again; the handler may have closed the connection (false).
     */
    private boolean deliver(int slot, Connection c, int bid, int n) {
        MemorySegment data = receive.view(bid, n);
        if (data == null) {
            receive.copyOut(bid, n);
            data = loop.readSlice(n);
        }
        try {
            return loop.received(slot, c, data);
        } finally {
            receive.provide(bid); // only now: the kernel may refill it as soon as it is lent
        }
    }

    /** Whether the handler may hear of input now. */
    private boolean wantsInput(int slot) {
        return !table.hasFlag(slot, FLAG_READ_PAUSED | FLAG_INPUT_CLOSED | FLAG_CLOSING);
    }

    /** Whether a recv should be armed: input wanted and the end of the stream not seen yet. */
    private boolean readable(int slot) {
        return wantsInput(slot) && !hasState(slot, EOF_HELD);
    }

    private void deliverHeld(int slot, Connection c) {
        while (receive.holds(slot) && wantsInput(slot)) {
            int n = receive.heldLength(slot);
            if (!deliver(slot, c, receive.unhold(slot), n)) {
                return;
            }
        }
        if (!receive.holds(slot) && hasState(slot, EOF_HELD) && table.hasFlag(slot, FLAG_OPEN)) {
            clearState(slot, EOF_HELD);
            loop.inputClosed(slot, c);
        }
    }

    private void armRecv(int slot) {
        int s = sqe();
        prep.recvMultishot(s, kernelFd(slot), receive.bgid(), 0, userData(OP_RECV, slot));
        prep.addFlags(s, fileFlag);
        opStarted(slot, RECV_ARMED);
    }

    private void cancelRecv(int slot) {
        prep.asyncCancel(sqe(), userData(OP_RECV, slot), 0, userData(OP_CANCEL, slot));
        opStarted(slot, RECV_CANCELLING);
    }

    // ---------------------------------------------------------------- send

    @Override
    long writeNow(int slot, Connection c, MemorySegment data, long length) {
        return 0; // everything goes through the queue and is sent with the pass's submissions
    }

    @Override
    long flushNow(int slot, Connection c) {
        return 0;
    }

    private void send(int slot) {
        int s = sqe();
        int fd = kernelFd(slot);
        long ud = userData(OP_SEND, slot);
        if (gatherFreeCount > 0 && outbound.spansBuffers(slot)) {
            int g = gatherFree[--gatherFreeCount];
            gatherOf[slot] = g;
            long msghdr = g * gatherStride;
            int count = outbound.gather(slot, gatherIovecs[g], GATHER_IOV);
            gather.set(JAVA_LONG, msghdr + Msghdr.MSG_IOVLEN, count);
            prep.sendmsg(s, fd, gather.address() + msghdr, MSG_NOSIGNAL, ud);
        } else {
            long address = outbound.headAddress(slot);
            int length = outbound.headLength(slot);
            if (options.zeroCopySendThreshold > 0 && length >= options.zeroCopySendThreshold) {
                // The kernel takes fixed buffers for zero-copy sends only: there they spare the
                // page pinning of every send; a copying send has nothing to pin.
                prep.sendZc(s, fd, address, length, MSG_NOSIGNAL,
                        options.registeredBuffers ? IORING_RECVSEND_FIXED_BUF : 0, ud);
                if (options.registeredBuffers) {
                    prep.bufIndex(s, 0);
                }
            } else {
                prep.send(s, fd, address, length, MSG_NOSIGNAL, ud);
            }
        }
        prep.addFlags(s, fileFlag);
        opStarted(slot, SEND_BUSY);
    }

    private void sendCompletion(int slot, int res, int flags) {
        if ((flags & IORING_CQE_F_NOTIF) != 0) {
            sendDone(slot, zcResult[slot]); // SEND_ZC: the kernel let go of the buffer only now
        } else if (IoUring.hasMore(flags)) {
            zcResult[slot] = res; // SEND_ZC: the count; the buffer stays the kernel's until the notification
        } else {
            sendDone(slot, res);
        }
    }

    private void sendDone(int slot, int res) {
        int g = gatherOf[slot];
        if (g >= 0) {
            gatherFree[gatherFreeCount++] = g;
            gatherOf[slot] = -1;
        }
        clearState(slot, SEND_BUSY);
        if (table.hasFlag(slot, FLAG_OPEN)) {
            if (res > 0) {
                outbound.consume(slot, res);
                loop.sent(slot, res);
                loop.outputProgress(slot, loop.connection(slot));
            } else if (res == 0 || res == -Errno.EAGAIN || res == -Errno.EINTR) {
                markDirty(slot);
            } else {
                loop.closeNow(slot, CloseReason.RESET);
            }
        }
        opDone(slot);
    }

    private void armPollOut(int slot) {
        int s = sqe();
        prep.pollAdd(s, kernelFd(slot), EPOLLOUT, userData(OP_POLL_OUT, slot));
        prep.addFlags(s, fileFlag);
        opStarted(slot, POLL_OUT_ARMED);
    }

    @Override
    void shutdownOutput(int slot, Connection c) {
        int s = sqe();
        prep.shutdown(s, kernelFd(slot), SHUT_WR, userData(OP_SHUTDOWN, slot));
        prep.addFlags(s, fileFlag);
        opStarted(slot, 0);
    }

    // ---------------------------------------------------------------- pass-end work per connection

    @Override
    void update(int slot) {
        markDirty(slot);
    }

    private void markDirty(int slot) {
        if (!table.hasFlag(slot, FLAG_DIRTY)) {
            table.setFlag(slot, FLAG_DIRTY);
            if (dirtyCount == dirty.length) {
                dirty = Arrays.copyOf(dirty, dirty.length * 2);
            }
            dirty[dirtyCount++] = slot;
        }
    }

    /**
     * Brings every connection touched in this pass in line with its flags, just before the
     * pass's io_uring_enter: delivers input held while reading was paused, arms or cancels its
     * recv, sends its queue or asks for writability. Handlers called from here may touch more
     * connections; they are served in the same sweep.
     */
    private void flushDirty() {
        for (int i = 0; i < dirtyCount; i++) {
            service(dirty[i]);
        }
        dirtyCount = 0;
        int slot;
        while ((slot = receive.nextUnstarved()) >= 0) {
            clearState(slot, STARVED);
            service(slot);
        }
    }

    private void service(int slot) {
        table.clearFlag(slot, FLAG_DIRTY);
        if (!table.hasFlag(slot, FLAG_OPEN)) {
            return;
        }
        Connection c = loop.connection(slot);
        if ((receive.holds(slot) || hasState(slot, EOF_HELD)) && wantsInput(slot)) {
            deliverHeld(slot, c);
            if (!table.isLive(c.handle())) {
                return;
            }
        }
        if (readable(slot)) {
            if (!hasState(slot, RECV_ARMED)) {
                if (receive.available() > 0) {
                    armRecv(slot);
                } else if (!hasState(slot, STARVED)) {
                    table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | STARVED);
                    receive.starve(slot);
                }
            }
        } else if (hasState(slot, RECV_ARMED) && !hasState(slot, RECV_CANCELLING)) {
            cancelRecv(slot);
        }
        if (!hasState(slot, SEND_BUSY)) {
            if (outbound.pending(slot) > 0) {
                send(slot);
            } else if (table.hasFlag(slot, FLAG_WANT_WRITE) && !hasState(slot, POLL_OUT_ARMED)) {
                armPollOut(slot);
            }
        }
    }

    // ---------------------------------------------------------------- close

    @Override
    boolean close(int slot, Connection c) {
        receive.releaseHeld(slot);
        int fd = kernelFd(slot);
        if (ring.sqSpaceLeft() < 2) {
            ring.submit(); // the cancel and the close must share a submission to stay linked
        }
        // Cancel every request on the socket, then close it: a request in flight holds the
        // socket open, so without the cancel a pending recv would keep it alive. The hard link
        // runs the close after the cancel whatever the cancel found.
        int cancel = sqe();
        prep.asyncCancelFd(cancel, fd, IORING_ASYNC_CANCEL_ALL | (direct ? IORING_ASYNC_CANCEL_FD_FIXED : 0),
                userData(OP_CANCEL, slot));
        prep.addFlags(cancel, IOSQE_IO_HARDLINK);
        opStarted(slot, 0);
        int close = sqe();
        if (direct) {
            prep.closeDirect(close, fd, userData(OP_CLOSE, slot));
        } else {
            prep.close(close, fd, userData(OP_CLOSE, slot));
        }
        opStarted(slot, 0);
        zombies++;
        return false;
    }

    @Override
    void drain(long deadlineNanos) {
        if (ring == null) {
            return;
        }
        stopAccepting();
        while ((zombies > 0 || acceptArmed) && System.nanoTime() - deadlineNanos < 0) {
            flushDirty();
            ring.submitAndWait(1, 10_000_000L);
            reap();
        }
        drained = zombies == 0;
        if (!drained) {
            EventLoop.LOG.log(System.Logger.Level.WARNING, "io_uring still holds " + zombies
                    + " closed connections after the shutdown deadline; their buffers are not freed");
        }
    }

    @Override
    boolean holdsMemory() {
        return !drained;
    }

    @Override
    int buffersLentToKernel() {
        return receive == null ? 0 : receive.available();
    }

    @Override
    void tearDown() {
        try {
            if (receive != null) {
                receive.close();
            }
        } catch (SyscallException e) {
            loop.reportUnexpected(e);
        } finally {
            if (ring != null) {
                ring.close();
            }
        }
    }
}
