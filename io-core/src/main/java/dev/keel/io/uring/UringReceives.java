package dev.keel.io.uring;

import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.gen.Errno;
import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.loop.BufferPool;
import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.io.loop.PollerHost;
import dev.keel.io.loop.SocketErrors;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_RECVSEND_BUNDLE;
import static dev.keel.io.loop.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.loop.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;
import static dev.keel.io.loop.ConnectionTable.READ_BLOCKED;
import static dev.keel.io.loop.ConnectionTable.READ_PAUSES;
import static dev.keel.io.uring.UringOps.EOF_HELD;
import static dev.keel.io.uring.UringOps.OP_CANCEL;
import static dev.keel.io.uring.UringOps.OP_RECV;
import static dev.keel.io.uring.UringOps.RECV_ARMED;
import static dev.keel.io.uring.UringOps.RECV_CANCELLING;
import static dev.keel.io.uring.UringOps.userData;

/**
 * The receive side of the io_uring transport: each connection's multishot recv (armed and
 * cancelled as reading is wanted or paused), its completions, and the delivery of the bytes
 * to the handler straight from the provided buffer the kernel filled — or, while reading is
 * paused, held in order and delivered when it resumes, the end of the stream after them. A
 * buffer being delivered may be adopted by a write of the same bytes (an echo, a relay): it
 * then becomes the connection's queue and a spare pool buffer is lent to the kernel instead.
 * Apart from {@link UringPoller} so that the transport's pass, sends and closes read without
 * the receive rules; it shares the poller's per-connection state bits. Loop thread only.
 */
final class UringReceives {
    private final UringPoller poller;
    private final PollerHost loop;
    private final ConnectionTable table;
    private final BufferPool pool;
    private final OutboundQueue outbound;
    private final UringReceiveBuffers receive;
    private final IoUringPrep prep;
    private final int fileFlag;
    private final UringStats stats;
    /** IORING_RECVSEND_BUNDLE when the recv takes bundles of buffers, else 0. */
    private final int bundle;

    /** The receive buffer whose bytes the handler is reading now, while it may adopt them; else -1. */
    private int deliveringBid = -1;
    /** Where the bytes of {@link #deliveringBid} start and end. */
    private long deliveringStart;
    private long deliveringEnd;
    /** The buffer to lend the kernel once the delivery ends, when the delivered one was adopted. */
    private int replacementBid = -1;
    /** Writes queued by adopting their receive buffer instead of copying. */
    private long adoptedWrites;

    UringReceives(UringPoller poller, PollerHost loop, UringReceiveBuffers receive, IoUringPrep prep, int fileFlag,
            UringStats stats) {
        this.poller = poller;
        this.loop = loop;
        this.table = loop.table();
        this.pool = loop.pool();
        this.outbound = loop.outbound();
        this.receive = receive;
        this.prep = prep;
        this.fileFlag = fileFlag;
        this.stats = stats;
        this.bundle = stats.uses(UringStats.RECEIVE_BUNDLES) ? IORING_RECVSEND_BUNDLE : 0;
    }

    void recvDone(int slot, int res, int flags) {
        boolean more = IoUring.hasMore(flags);
        if (!more) {
            poller.clearState(slot, RECV_ARMED | RECV_CANCELLING);
        }
        int pieces = 0;
        if (IoUring.hasBuffer(flags)) {
            boolean bufferMore = IoUring.bufferMore(flags);
            pieces = receive.take(IoUring.bufferId(flags), res, bufferMore);
            if (pieces > 1) {
                stats.bundle(pieces);
            }
            if (bufferMore) {
                stats.partialBuffer();
            }
        }
        if (res > 0 && pieces > 0) {
            receivedAll(slot, pieces);
        } else {
            if (pieces > 0) {
                receive.provideTaken(); // buffers without bytes go straight back
            }
            if (!table.hasFlag(slot, FLAG_OPEN)) {
                // a closed connection's last completions: nothing to tell
            } else if (res == 0) {
                if (receive.holds(slot)) {
                    table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | EOF_HELD);
                } else {
                    loop.inputClosed(slot, loop.connection(slot));
                }
            } else if (res == -Errno.ENOBUFS) {
                loop.receiveStarved();
                poller.markDirty(slot);
            } else if (res != -Errno.ECANCELED) {
                try {
                    SocketErrors.closeFor(loop, slot, "recv", -res);
                } finally {
                    if (!more) {
                        poller.opDone(slot);
                    }
                }
                return;
            }
        }
        if (!more) {
            if (table.hasFlag(slot, FLAG_OPEN)) {
                poller.markDirty(slot); // re-armed with the next submissions if reading is still wanted
            }
            poller.opDone(slot);
        }
    }

    /**
     * Hands the pieces of one completion over in order: a buffer that is wholly the loop's with
     * its bytes at the start to {@link #received}, a piece of a buffer the kernel still fills
     * (incremental ring) to {@link #receivedPiece}; once the connection closed, the buffers go
     * back to the ring.
     */
    private void receivedAll(int slot, int pieces) {
        for (int i = 0; i < pieces; i++) {
            int bid = receive.pieceId(i);
            boolean done = receive.pieceDone(i);
            if (!table.hasFlag(slot, FLAG_OPEN)) {
                if (done) {
                    receive.provide(bid); // the handler closed the connection on an earlier piece
                }
            } else if (done && receive.pieceOffset(i) == 0) {
                received(slot, bid, receive.pieceLength(i));
            } else {
                receivedPiece(slot, bid, receive.pieceOffset(i), receive.pieceLength(i), done);
            }
        }
    }

    /**
     * Bytes in the middle of a receive buffer of an incremental ring, whose other bytes belong
     * to other receives: delivered through the loop's read buffer, or held as a copy while
     * reading is paused (none left in the pool closes the connection: POOL_EXHAUSTED); never
     * held in place nor adopted. The buffer is lent again once the kernel is done with it.
     */
    private void receivedPiece(int slot, int bid, int offset, int n, boolean done) {
        try {
            if (table.hasFlag(slot, FLAG_CLOSING)) {
                return; // a graceful close reads no more
            }
            if (table.hasFlag(slot, READ_PAUSES) || receive.holds(slot)) {
                if (receive.holdCopy(slot, bid, offset, n) < 0) {
                    loop.closeNow(slot, CloseReason.POOL_EXHAUSTED);
                }
                return;
            }
            receive.copyOut(bid, offset, n);
            loop.received(slot, loop.connection(slot), loop.readSlice(n));
        } finally {
            if (done) {
                receive.provide(bid);
            }
        }
    }

    private void received(int slot, int bid, int n) {
        if (table.hasFlag(slot, FLAG_CLOSING)) {
            receive.provide(bid); // a graceful close reads no more
        } else if (table.hasFlag(slot, READ_PAUSES) || receive.holds(slot)) {
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
            receive.copyOut(bid, 0, n);
            data = loop.readSlice(n);
        } else {
            deliveringBid = bid;
            deliveringStart = receive.address(bid);
            deliveringEnd = deliveringStart + n;
        }
        try {
            return loop.received(slot, c, data);
        } finally {
            deliveringBid = -1;
            int lend = bid;
            if (replacementBid >= 0) {
                lend = replacementBid; // bid now belongs to a connection's queue
                replacementBid = -1;
            }
            receive.giveBack(lend); // only now: the kernel may refill it as soon as it is lent
        }
    }

    /** Whether the handler may hear of input now. */
    boolean wantsInput(int slot) {
        return !table.hasFlag(slot, READ_BLOCKED);
    }

    /** Whether a recv should be armed: input wanted and the end of the stream not seen yet. */
    boolean readable(int slot) {
        return wantsInput(slot) && !poller.hasState(slot, EOF_HELD);
    }

    void deliverHeld(int slot, Connection c) {
        while (receive.holds(slot) && wantsInput(slot)) {
            int n = receive.heldLength(slot);
            if (!deliver(slot, c, receive.unhold(slot), n)) {
                return;
            }
        }
        if (!receive.holds(slot) && poller.hasState(slot, EOF_HELD) && table.hasFlag(slot, FLAG_OPEN)) {
            poller.clearState(slot, EOF_HELD);
            loop.inputClosed(slot, c);
        }
    }

    void armRecv(int slot) {
        int s = poller.sqe();
        prep.recvMultishot(s, poller.kernelFd(slot), receive.bgid(), 0, userData(OP_RECV, slot));
        prep.addIoprio(s, bundle);
        prep.addFlags(s, fileFlag);
        poller.opStarted(slot, RECV_ARMED);
    }

    void cancelRecv(int slot) {
        prep.asyncCancel(poller.sqe(), userData(OP_RECV, slot), 0, userData(OP_CANCEL, slot));
        poller.opStarted(slot, RECV_CANCELLING);
    }

    // ---------------------------------------------------------------- adoption by a write

    /**
     * Bytes that run to the end of the receive buffer being delivered are queued by adopting
     * that buffer rather than copying it; returns the bytes adopted (all or none).
     */
    long adoptIfDelivering(int slot, MemorySegment data, long length) {
        long address = data.address();
        if (deliveringBid < 0 || length == 0 || address < deliveringStart || address + length != deliveringEnd
                || !takeSpare()) {
            return 0;
        }
        outbound.adopt(slot, deliveringBid, (int) (address - deliveringStart), (int) (deliveringEnd - deliveringStart));
        return adopted(slot, length);
    }

    /** Behind queued bytes: a whole receive buffer being delivered is linked when the queue's tail is full. */
    long linkIfDelivering(int slot, MemorySegment data, long length) {
        if (deliveringBid < 0 || data.address() != deliveringStart || data.address() + length != deliveringEnd
                || length != pool.capacity(deliveringBid) || !outbound.tailFull(slot) || !takeSpare()) {
            return 0;
        }
        outbound.link(slot, deliveringBid);
        return adopted(slot, length);
    }

    /** A spare receive buffer to lend the kernel once the delivery ends; false when the pool has none. */
    private boolean takeSpare() {
        replacementBid = receive.replacement();
        return replacementBid >= 0;
    }

    private long adopted(int slot, long length) {
        deliveringBid = -1; // one owner: a second write of the same bytes copies them
        adoptedWrites++;
        poller.markDirty(slot);
        return length;
    }

    /** Writes queued by adopting their receive buffer instead of copying it. */
    long adoptedWrites() {
        return adoptedWrites;
    }
}
