package dev.keel.io.uring;

import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;
import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.loop.FileRegions;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.io.pipe.Pipe;
import dev.keel.io.pipe.PipePool;
import dev.keel.io.loop.PollerHost;
import dev.keel.io.loop.SocketErrors;

import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_MORE;
import static dev.keel.io.loop.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;
import static dev.keel.io.uring.UringOps.CLOSE_DEFERRED;
import static dev.keel.io.uring.UringOps.FILE_BUSY;
import static dev.keel.io.uring.UringOps.FILE_OUT_BUSY;
import static dev.keel.io.uring.UringOps.FILE_WAIT;
import static dev.keel.io.uring.UringOps.OP_CANCEL;
import static dev.keel.io.uring.UringOps.OP_FILE_IN;
import static dev.keel.io.uring.UringOps.OP_FILE_OUT;
import static dev.keel.io.uring.UringOps.SEND_BUSY;
import static dev.keel.io.uring.UringOps.userData;

/**
 * How the io_uring transport carries a connection's file region ({@link FileRegions}): through
 * the ring, as IORING_OP_SPLICE requests — file -> pipe, then pipe -> socket — through a pipe
 * lent to the connection from the loop's pool while its region lasts. One request in flight per
 * connection (the poller's send slot: queued bytes and file steps never overlap), so the region's
 * bytes stay in order with the connection's queue. The socket end names the connection's kernel
 * descriptor, a fixed file with direct descriptors (IOSQE_FIXED_FILE); the file and pipe ends
 * are plain descriptors.
 *
 * <p>The kernel runs splice on io-wq workers and looks each descriptor up only when a worker
 * starts the request. So every descriptor a request names must stay what it is until its
 * completion: the pipe is given back only after the completion (closed if bytes are left in it),
 * the socket's close waits for it (the poller defers the close and cancels the request), and the
 * caller's file is released by the caller only after {@code onFileSent} or {@code onClose},
 * both of which come after the completion.
 *
 * <p>A socket that takes only part of what the pipe holds (a non-blocking socket that filled
 * up) leaves the rest in the pipe: the poller waits for it to be writable and splices again.
 *
 * <p>Capacity: pipes of {@link #PIPE_BYTES} (F_SETPIPE_SZ), one per connection with a region in
 * progress, at most {@link #MAX_IDLE_PIPES} kept idle per loop; at most {@link #MAX_WORKERS}
 * io-wq workers per ring run the splices (the sockets are non-blocking, so a splice to one ends
 * with what fit, and a full socket is waited for with a poll, not in a worker).
 */
final class UringFiles {
    /** Capacity asked of each pipe: 1 MiB, /proc/sys/fs/pipe-max-size's default (less is kept when refused). */
    static final int PIPE_BYTES = 1 << 20;
    /** Empty pipes a loop keeps for the next regions. */
    static final int MAX_IDLE_PIPES = 64;
    /** io-wq workers per ring and kind (IORING_REGISTER_IOWQ_MAX_WORKERS): the splices' threads. */
    static final int MAX_WORKERS = 4;

    /** What a step is: a splice from the file into the pipe (or from the pipe to the socket). */
    private static final boolean INTO_PIPE = true;

    private final UringPoller poller;
    private final PollerHost loop;
    private final IoUringPrep prep;
    private final int fileFlag;
    private final OutboundQueue outbound;
    private final FileRegions files;
    private final PipePool pipes = new PipePool(PIPE_BYTES, MAX_IDLE_PIPES);
    private final Pipe[] pipeOf;
    /** Splice requests completed with bytes moved, both directions: the ring carried the files. */
    private long splices;

    UringFiles(UringPoller poller, PollerHost loop, IoUringPrep prep, OutboundQueue outbound, int capacity,
               int fileFlag) {
        this.poller = poller;
        this.loop = loop;
        this.prep = prep;
        this.fileFlag = fileFlag;
        this.outbound = outbound;
        this.files = outbound.files();
        this.pipeOf = new Pipe[capacity];
    }

    /**
     * Submits the next splice of open {@code slot}'s region, which holds the connection's output
     * slot (SEND_BUSY) until it completes.
     */
    void step(int slot) {
        if (!hasPipe(slot)) {
            return;
        }
        int s = poller.sqe();
        boolean intoPipe = prepare(s, slot, poller.kernelFd(slot), fileFlag, userData(OP_FILE_IN, slot),
                userData(OP_FILE_OUT, slot));
        poller.opStarted(slot, SEND_BUSY | FILE_BUSY | (intoPipe ? 0 : FILE_OUT_BUSY));
    }

    /**
     * A splice of {@code slot}'s region completed with {@code res}: the next step is due, or the
     * socket must become writable first, or the region ended; after the connection's close, the
     * pipe is given back and the deferred close goes ahead.
     */
    void stepDone(int slot, boolean intoPipe, int res) {
        poller.clearState(slot, SEND_BUSY | FILE_BUSY | FILE_OUT_BUSY);
        try {
            if (!loop.table().hasFlag(slot, FLAG_OPEN)) {
                abandoned(slot, intoPipe, res);
                if (poller.hasState(slot, CLOSE_DEFERRED)) {
                    poller.clearState(slot, CLOSE_DEFERRED);
                    poller.cancelAndClose(slot); // before opDone: the slot stays held until the close completes
                }
                return;
            }
            Connection c = loop.connection(slot);
            if (intoPipe) {
                if (intoPipeDone(slot, c, res)) {
                    poller.markDirty(slot);
                }
                return;
            }
            int n = toSocketDone(slot, c, res);
            if (n > 0) {
                loop.outputProgress(slot, c);
            } else if (n == 0) {
                loop.table().setInt(slot, POLLER_STATE, loop.table().getInt(slot, POLLER_STATE) | FILE_WAIT);
                poller.markDirty(slot);
            }
        } finally {
            poller.opDone(slot);
        }
    }

    /**
     * Retired {@code slot} is being closed: true when a splice of its region is in flight, and
     * the close must wait for its completion ({@link #stepDone}) — a splice resolves its
     * descriptors only when an io-wq worker starts it, so the socket (and its number) must stay
     * until then; one to the socket, which may wait on a peer that reads nothing, is cancelled.
     * False when nothing is in flight: the pipe is given back now and the close goes ahead.
     */
    boolean closeWaits(int slot) {
        if (!poller.hasState(slot, FILE_BUSY)) {
            releasePipe(slot);
            return false;
        }
        loop.table().setInt(slot, POLLER_STATE, loop.table().getInt(slot, POLLER_STATE) | CLOSE_DEFERRED);
        if (poller.hasState(slot, FILE_OUT_BUSY)) {
            prep.asyncCancel(poller.sqe(), userData(OP_FILE_OUT, slot), 0, userData(OP_CANCEL, slot));
            poller.opStarted(slot, 0);
        }
        return true;
    }

    /**
     * Whether {@code slot} has its pipe, lent now if need be; when none can be opened (out of
     * descriptors), the failure is reported and the connection closed, and this says false.
     */
    private boolean hasPipe(int slot) {
        if (pipeOf[slot] != null) {
            return true;
        }
        try {
            loop.countSyscalls(3); // pipe2, F_SETPIPE_SZ, F_GETPIPE_SZ, when the pool has none idle
            pipeOf[slot] = pipes.acquire();
            return true;
        } catch (SyscallException e) {
            loop.reportUnexpected(e);
            loop.closeNow(slot, CloseReason.ERROR);
            return false;
        }
    }

    /**
     * Encodes into {@code sqe} the next splice of {@code slot}'s region (which {@link #hasPipe}):
     * from the file while the connection's pipe is empty, to the socket {@code socketFd}
     * otherwise. Returns which it is ({@link #INTO_PIPE} or not).
     */
    private boolean prepare(int sqe, int slot, int socketFd, int fileFlag, long intoPipeData, long toSocketData) {
        Pipe p = pipeOf[slot];
        if (p.isEmpty()) {
            long want = Math.min(files.remaining(slot), p.capacity());
            prep.splice(sqe, files.fd(slot), files.position(slot), p.writeFd(), -1L, (int) want, 0, intoPipeData);
            return INTO_PIPE;
        }
        // More follows (the rest of the region, or bytes queued behind it): TCP may hold back a partial segment.
        boolean more = p.held() < files.remaining(slot) || outbound.pending(slot) > 0;
        prep.splice(sqe, p.readFd(), -1L, socketFd, -1L, (int) p.held(), more ? SPLICE_F_MORE : 0, toSocketData);
        prep.addFlags(sqe, fileFlag);
        return !INTO_PIPE;
    }

    /**
     * The file -> pipe splice of open {@code slot} completed with {@code res}. Returns true when
     * the region goes on (the next step is due), false when it ended (the connection is then
     * told, and closed).
     */
    private boolean intoPipeDone(int slot, Connection c, int res) {
        if (res > 0) {
            splices++;
            pipeOf[slot].added(res);
            return true;
        }
        if (res == -Errno.EINTR || res == -Errno.EAGAIN) {
            return true; // nothing moved: the step is simply tried again
        }
        releasePipe(slot);
        loop.fileSent(slot, c, res == 0 ? FileRegions.TRUNCATED : -res);
        return false;
    }

    /**
     * The pipe -> socket splice of open {@code slot} completed with {@code res}: returns
     * {@code res} > 0 bytes the socket took, 0 when it took nothing and the step must wait for
     * writability, -1 when the region or the connection ended.
     */
    private int toSocketDone(int slot, Connection c, int res) {
        if (res > 0) {
            splices++;
            pipeOf[slot].removed(res);
            files.advance(slot, res);
            loop.sentFile(slot, res);
            if (files.remaining(slot) == 0) {
                releasePipe(slot);
                loop.fileSent(slot, c, 0);
                return loop.table().isLive(c.handle()) ? res : -1;
            }
            return res;
        }
        if (res == 0 || res == -Errno.EAGAIN || res == -Errno.EINTR) {
            return 0;
        }
        SocketErrors.closeFor(loop, slot, "splice", -res);
        return -1;
    }

    /**
     * A splice of {@code slot}'s region completed with {@code res} after the connection closed:
     * the bytes it moved are counted in the pipe, which is then given back (closed when bytes are
     * left in it, so that none reaches the next region).
     */
    private void abandoned(int slot, boolean intoPipe, int res) {
        Pipe p = pipeOf[slot];
        if (p != null && res > 0) {
            if (intoPipe) {
                p.added(res);
            } else {
                p.removed(res);
            }
        }
        releasePipe(slot);
    }

    /**
     * Gives {@code slot}'s pipe back, if it has one: kept for reuse when empty, closed when bytes
     * of an abandoned region are left in it. Only when no splice naming it is in flight.
     */
    void releasePipe(int slot) {
        Pipe p = pipeOf[slot];
        if (p != null) {
            pipeOf[slot] = null;
            if (!p.isEmpty()) {
                loop.countSyscalls(2);
            }
            pipes.release(p);
        }
    }

    /** Splice requests that moved bytes (file -> pipe and pipe -> socket); loop thread. */
    long splices() {
        return splices;
    }

    /** Pipes open now (idle in the pool or lent to regions). */
    int pipesOpen() {
        return pipes.open();
    }

    /** Closes the idle pipes, and any still lent (the loop stopped: no request is in flight any more). */
    void close() {
        pipes.close();
        for (int slot = 0; slot < pipeOf.length; slot++) {
            Pipe p = pipeOf[slot];
            if (p != null) {
                pipeOf[slot] = null;
                pipes.release(p); // the pool is closed: the pipe is closed
            }
        }
    }
}
