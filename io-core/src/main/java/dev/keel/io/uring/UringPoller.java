package dev.keel.io.uring;

import dev.keel.io.loop.SocketErrors;
import dev.keel.io.loop.PollerHost;
import dev.keel.io.Connection;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.io.loop.BufferPool;
import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.DatagramDriver;
import dev.keel.io.loop.DatagramSink;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.io.loop.Poller;
import dev.keel.ffm.EventFd;
import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.MemorySegment;

import static dev.keel.io.uring.UringOps.CLOSE_DEFERRED;
import static dev.keel.io.uring.UringOps.FILE_WAIT;
import static dev.keel.io.uring.UringOps.OP_ACCEPT;
import static dev.keel.io.uring.UringOps.OP_CANCEL;
import static dev.keel.io.uring.UringOps.OP_CLOSE;
import static dev.keel.io.uring.UringOps.OP_CONNECT;
import static dev.keel.io.uring.UringOps.OP_FILES_UPDATE;
import static dev.keel.io.uring.UringOps.OP_DGRAM_ERRQUEUE;
import static dev.keel.io.uring.UringOps.OP_DGRAM_RECV;
import static dev.keel.io.uring.UringOps.OP_DGRAM_SEND;
import static dev.keel.io.uring.UringOps.OP_FILE_IN;
import static dev.keel.io.uring.UringOps.OP_FILE_OUT;
import static dev.keel.io.uring.UringOps.OP_IGNORE;
import static dev.keel.io.uring.UringOps.OP_POLL_OUT;
import static dev.keel.io.uring.UringOps.OP_RECV;
import static dev.keel.io.uring.UringOps.OP_SEND;
import static dev.keel.io.uring.UringOps.OP_SHUTDOWN;
import static dev.keel.io.uring.UringOps.OP_WAKE;
import static dev.keel.io.uring.UringOps.POLL_OUT_ARMED;
import static dev.keel.io.uring.UringOps.SEND_BUSY;
import static dev.keel.io.uring.UringOps.SHUTDOWN_BUSY;
import static dev.keel.io.uring.UringOps.userData;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLIN;
import static dev.keel.ffm.gen.LinuxConstants.IOSQE_FIXED_FILE;
import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static dev.keel.io.loop.ConnectionTable.FD;
import static dev.keel.io.loop.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.loop.ConnectionTable.IN_FLIGHT;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;

/**
 * The io_uring transport. One ring per loop, made and driven on the loop thread
 * (SINGLE_ISSUER + DEFER_TASKRUN where the kernel has them, so completions are posted only
 * while this thread is in io_uring_enter; COOP_TASKRUN otherwise; SQPOLL on request), its fd
 * registered. A loop pass makes one io_uring_enter that submits what the pass prepared and
 * waits for completions:
 * <ul>
 * <li>one multishot accept on the listener, into process fds or fixed file slots;</li>
 * <li>one multishot recv per connection, into a provided buffer ring lent from the loop's pool
 *     and refilled as each completion is handled — taking bundles of buffers per completion
 *     and consuming buffers incrementally where the kernel can ({@link UringReceiveBuffers});
 *     while a connection's reading is paused (its output above the high water mark) the recv
 *     is cancelled and what still arrives is held, in order, for when reading resumes;</li>
 * <li>output is copied into the connection's queue ({@link OutboundQueue}) and sent at the end
 *     of the pass, one send in flight per connection (a send of the oldest buffer, a gathered
 *     sendmsg, or SEND_ZC above a threshold), partial sends continued from where they stopped;
 *     received bytes written back as they came (an echo, a relay) are not copied: their receive
 *     buffer itself becomes the queue and a spare pool buffer is lent to the kernel instead;</li>
 * <li>a file region ({@link dev.keel.io.Connection#writeFile}) follows the bytes queued before
 *     it as splice requests file -> pipe -> socket in the same one-at-a-time order
 *     ({@link UringFiles});</li>
 * <li>cross-thread wake-ups arrive as a multishot poll on the loop's eventfd.</li>
 * </ul>
 * The newer kernel tools it uses where present (NO_IOWAIT waits, receive bundles, incremental
 * buffer rings, a registered wait region) are listed, with their counters, in
 * {@link #uringStats()}.
 *
 * <p>Kernel ownership: a connection's slot counts the requests in flight that name it
 * ({@link ConnectionTable#IN_FLIGHT}). Closing cancels those still waiting on the socket (each
 * by its user_data, {@link UringCloses}) and closes the socket through the ring; the slot, its
 * queued buffers and the onClose call wait until the last completion came back, so no buffer
 * is reused while the kernel may still read it. Receive buffers that arrive for a closed
 * connection go straight back to the ring; an fd accepted after accepting stopped is closed.
 */
public final class UringPoller extends Poller {
    private static final System.Logger LOG = System.getLogger("dev.keel.io");

    private final IoUringRing.CompletionHandler onCompletion = this::complete;

    private LoopOptions options;
    private ConnectionTable table;
    private BufferPool pool;
    private OutboundQueue outbound;
    private IoUringRing ring;
    private IoUringPrep prep;
    private UringPass pass;
    private UringReceiveBuffers receive;
    private boolean direct;
    private int fileFlag;
    private int wakeFd = -1;
    private MemorySegment wakeScratch;
    private UringAcceptor acceptor;
    /** Retired connections whose requests are still in flight. */
    private int zombies;
    private boolean drained = true;

    private UringSweep sweep;

    private UringSends sends;
    private UringReceives receives;
    private UringConnects connects;
    private UringFiles fileSteps;
    private UringCloses closes;
    private UringDatagrams datagrams;
    private final UringStats stats = new UringStats();

    public UringPoller(PollerHost loop) {
        super(loop);
    }

    @Override
    public Transport transport() {
        return Transport.IO_URING;
    }

    @Override
    public int[] bufferCounts(LoopOptions o) {
        int[] counts = o.bufferCounts().clone();
        counts[UringReceiveBuffers.sizeClass(o)] += o.providedBufferCount();
        return counts;
    }

    @Override
    public void setUp(int listenFd, int wakeFd) {
        options = loop.options();
        table = loop.table();
        pool = loop.pool();
        outbound = loop.outbound();
        this.wakeFd = wakeFd;
        direct = options.directDescriptors();
        fileFlag = direct ? IOSQE_FIXED_FILE : 0;
        ring = UringRings.open(options, loop.cpu(), stats);
        prep = ring.prep();
        UringRings.avoidIowait(ring, stats);
        UringRings.receiveBundles(ring, stats);
        pass = new UringPass(ring, onCompletion, loop, stats);
        acceptor = new UringAcceptor(loop, pass, prep, listenFd, direct);
        UringRings.registerRingFd(ring);
        UringRings.limitWorkers(ring, UringFiles.MAX_WORKERS);
        if (direct) {
            UringRings.registerFileTable(ring, options.maxConnections());
            if (listenFd >= 0) {
                // Direct sockets have no fd for setsockopt: they inherit the listener's options.
                loop.configure(listenFd);
            }
        }
        if (options.registeredBuffers()) {
            UringRings.registerPool(ring, pool.region(), loop.arena());
        }
        receive = new UringReceiveBuffers(ring, pool, options, loop.readBuffer(), stats);
        receives = new UringReceives(this, loop, receive, prep, fileFlag, stats);
        sends = new UringSends(prep, outbound, options, loop.arena());
        connects = new UringConnects(this, loop, prep, direct, fileFlag);
        fileSteps = new UringFiles(this, loop, prep, outbound, options.maxConnections(), fileFlag);
        closes = new UringCloses(this, table, pass, prep, direct, fileSteps);
        sweep = new UringSweep(this, loop, receive, receives, sends, fileSteps, prep, fileFlag);
        wakeScratch = loop.arena().allocate(Long.BYTES, Long.BYTES);
        prep.pollMultishot(sqe(), wakeFd, EPOLLIN, userData(OP_WAKE, 0));
    }

    // ---------------------------------------------------------------- the pass

    @Override
    public int poll(int timeoutMillis) {
        sweep.flush();
        if (datagrams != null) {
            datagrams.flush();
        }
        if (timeoutMillis != 0 && options.busyPollNanos() > 0) {
            long spinUntil = loop.now() + options.busyPollNanos();
            do {
                pass.enterWithoutWaiting();
                if (pass.ready() || loop.hasTasks()) {
                    return pass.reap();
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - spinUntil < 0);
        }
        if (timeoutMillis != 0 && loop.prepareToBlock()) {
            pass.enterAndWait(timeoutMillis);
            loop.awake();
        } else {
            if (timeoutMillis != 0) {
                loop.awake();
            }
            pass.enterWithoutWaiting();
        }
        return pass.reap();
    }

    int sqe() {
        return pass.sqe();
    }

    // ---------------------------------------------------------------- completions

    private void complete(long userData, int res, int flags) {
        int op = (int) (userData >>> 32);
        int slot = (int) userData;
        switch (op) {
            case OP_RECV -> receives.recvDone(slot, res, flags);
            case OP_SEND -> {
                int result = sends.completed(slot, res, flags);
                if (result != UringSends.NOT_DONE) {
                    sendDone(slot, result);
                }
            }
            case OP_FILE_IN, OP_FILE_OUT -> fileSteps.stepDone(slot, op == OP_FILE_IN, res);
            case OP_ACCEPT -> acceptor.completed(res, flags);
            case OP_CONNECT -> connects.completed(slot, res);
            case OP_FILES_UPDATE -> connects.adopted(slot, res);
            case OP_DGRAM_RECV -> datagrams.recvDone(slot, res, flags);
            case OP_DGRAM_SEND -> datagrams.sendDone(slot, res);
            case OP_DGRAM_ERRQUEUE -> datagrams.errorQueueDone(slot, res);
            case OP_WAKE -> {
                EventFd.read(wakeFd, wakeScratch);
                loop.countSyscalls(1);
                if (!IoUring.hasMore(flags)) {
                    prep.pollMultishot(sqe(), wakeFd, EPOLLIN, userData(OP_WAKE, 0));
                }
            }
            case OP_POLL_OUT -> {
                clearState(slot, POLL_OUT_ARMED | FILE_WAIT);
                if (res >= 0 && table.hasFlag(slot, FLAG_OPEN)) {
                    loop.outputProgress(slot, loop.connection(slot));
                }
                opDone(slot);
            }
            case OP_SHUTDOWN -> {
                clearState(slot, SHUTDOWN_BUSY);
                try {
                    if (hasState(slot, CLOSE_DEFERRED)) {
                        clearState(slot, CLOSE_DEFERRED);
                        cancelAndClose(slot); // before opDone: the slot stays held until the close completes
                    } else if (res < 0 && res != -Errno.ENOTCONN && table.hasFlag(slot, FLAG_OPEN)) {
                        SocketErrors.closeFor(loop, slot, "shutdown", -res);
                    }
                } finally {
                    opDone(slot);
                }
            }
            case OP_CANCEL, OP_CLOSE -> opDone(slot);
            case OP_IGNORE -> {
                // the cancel of an accept, the close of a refused fixed file: nothing to account
            }
            default -> throw new IllegalStateException("completion of unknown operation " + op);
        }
    }

    /** One request naming {@code slot} finished; the last one of a closed connection frees it. */
    void opDone(int slot) {
        int left = table.getInt(slot, IN_FLIGHT) - 1;
        table.setInt(slot, IN_FLIGHT, left);
        if (left == 0 && !table.hasFlag(slot, FLAG_OPEN) && loop.connection(slot) != null) {
            zombies--;
            loop.released(slot);
        }
    }

    void opStarted(int slot, int stateBits) {
        table.setInt(slot, IN_FLIGHT, table.getInt(slot, IN_FLIGHT) + 1);
        table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | stateBits);
    }

    void clearState(int slot, int bits) {
        table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) & ~bits);
    }

    boolean hasState(int slot, int bits) {
        return (table.getInt(slot, POLLER_STATE) & bits) != 0;
    }

    int kernelFd(int slot) {
        return table.getInt(slot, FD);
    }

    // ---------------------------------------------------------------- accept

    @Override
    public void startAccepting() {
        acceptor.start();
    }

    @Override
    public void stopAccepting() {
        acceptor.stop();
    }

    @Override
    public void discardAccepted(int fd) {
        acceptor.discard(fd);
    }

    @Override
    public void connect(int slot, Connection c, MemorySegment sockaddr, int length) {
        connects.connect(slot, sockaddr, length);
    }

    @Override
    public int publicFd(int fd) {
        return direct ? -1 : fd;
    }

    @Override
    public void register(int slot, Connection c) {
        if (!direct) {
            loop.configure(loop.descriptor(c));
        }
        table.setInt(slot, POLLER_STATE, 0);
        markDirty(slot); // the recv is armed with the pass's other submissions
    }

    // ---------------------------------------------------------------- send

    /** Nothing is written at once (output goes with the pass's submissions); a receive buffer may be adopted. */
    @Override
    public long writeNow(int slot, Connection c, MemorySegment data, long length) {
        return receives.adoptIfDelivering(slot, data, length);
    }

    /** Behind queued bytes, a whole receive buffer being delivered is adopted when the queue's tail is full. */
    @Override
    public long queueWithoutCopy(int slot, MemorySegment data, long length) {
        return receives.linkIfDelivering(slot, data, length);
    }

    @Override
    public long flushNow(int slot, Connection c) {
        return 0;
    }

    private void sendDone(int slot, int res) {
        clearState(slot, SEND_BUSY);
        if (table.hasFlag(slot, FLAG_OPEN)) {
            if (res > 0) {
                outbound.consume(slot, res);
                loop.sent(slot, res);
                loop.outputProgress(slot, loop.connection(slot));
            } else if (res == 0 || res == -Errno.EAGAIN || res == -Errno.EINTR) {
                markDirty(slot);
            } else {
                try {
                    SocketErrors.closeFor(loop, slot, "send", -res);
                } finally {
                    opDone(slot);
                }
                return;
            }
        }
        opDone(slot);
    }

    @Override
    public void fileQueued(int slot, Connection c) {
        markDirty(slot); // the region's first splice goes with the pass's submissions
    }

    @Override
    public void shutdownOutput(int slot, Connection c) {
        int s = sqe();
        prep.shutdown(s, kernelFd(slot), SHUT_WR, userData(OP_SHUTDOWN, slot));
        prep.addFlags(s, fileFlag);
        opStarted(slot, SHUTDOWN_BUSY);
    }

    // ---------------------------------------------------------------- pass-end work per connection

    @Override
    public void update(int slot) {
        markDirty(slot);
    }

    void markDirty(int slot) {
        sweep.markDirty(slot);
    }

    // ---------------------------------------------------------------- close

    @Override
    public boolean close(int slot, Connection c) {
        receive.releaseHeld(slot);
        zombies++;
        closes.close(slot);
        return false;
    }

    /** Cancels every request on retired {@code slot}'s socket and closes it through the ring ({@link UringCloses}). */
    void cancelAndClose(int slot) {
        closes.cancelAndClose(slot);
    }

    @Override
    public void drain(long deadlineNanos) {
        if (ring == null) {
            return;
        }
        stopAccepting();
        if (datagrams != null) {
            datagrams.closeAll();
        }
        while ((zombies > 0 || acceptor.armed() || datagramsBusy()) && System.nanoTime() - deadlineNanos < 0) {
            sweep.flush();
            pass.enterAndWait(10);
            pass.reap();
        }
        drained = zombies == 0 && !datagramsBusy();
        if (!drained) {
            LOG.log(System.Logger.Level.WARNING, loop.name() + ": io_uring still holds " + zombies
                    + " closed connections after the shutdown deadline; their buffers are not freed");
        }
    }

    @Override
    public int filePipes() {
        return fileSteps == null ? 0 : fileSteps.pipesOpen();
    }

    /** Splice requests of file regions that moved bytes through the ring; loop thread only. */
    public long fileSplices() {
        return fileSteps == null ? 0 : fileSteps.splices();
    }

    /** Which of io_uring's newer tools this loop uses, and their counters; readable from any thread. */
    public UringStats uringStats() {
        return stats;
    }

    /**
     * Cancels sent by closes so far, one per request that was still in flight on the closed
     * socket (none when the peer had closed first); loop thread only.
     */
    public long closeCancels() {
        return closes == null ? 0 : closes.cancels();
    }

    /** Writes queued by adopting their receive buffer instead of copying it; loop thread only. */
    public long adoptedWrites() {
        return receives.adoptedWrites();
    }

    private boolean datagramsBusy() {
        return datagrams != null && datagrams.busy();
    }

    @Override
    public DatagramDriver datagrams(DatagramSink sink) {
        if (datagrams == null) {
            datagrams = new UringDatagrams(sink, loop, this, ring);
        }
        return datagrams;
    }

    @Override
    public boolean holdsMemory() {
        return !drained;
    }

    @Override
    public int buffersLentToKernel() {
        return receive == null ? 0 : receive.available();
    }

    @Override
    public void tearDown() {
        try {
            if (fileSteps != null) {
                fileSteps.close();
            }
            if (receive != null) {
                receive.close();
            }
        } catch (SyscallException e) {
            loop.reportUnexpected(e);
        } finally {
            if (ring != null) {
                ring.close();
            }
            if (datagrams != null && drained) {
                datagrams.freeAll(); // the ring is gone and held nothing more
            }
        }
    }
}
