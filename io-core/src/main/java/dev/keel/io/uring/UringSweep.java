package dev.keel.io.uring;

import dev.keel.ffm.IoUringPrep;
import dev.keel.io.Connection;
import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.FileRegions;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.io.loop.PollerHost;

import static dev.keel.ffm.gen.LinuxConstants.EPOLLOUT;
import static dev.keel.ffm.gen.LinuxConstants.MSG_MORE;
import static dev.keel.io.loop.ConnectionTable.FLAG_CONNECTING;
import static dev.keel.io.loop.ConnectionTable.FLAG_DIRTY;
import static dev.keel.io.loop.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.loop.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;
import static dev.keel.io.uring.UringOps.EOF_HELD;
import static dev.keel.io.uring.UringOps.FILE_WAIT;
import static dev.keel.io.uring.UringOps.OP_POLL_OUT;
import static dev.keel.io.uring.UringOps.OP_SEND;
import static dev.keel.io.uring.UringOps.POLL_OUT_ARMED;
import static dev.keel.io.uring.UringOps.RECV_ARMED;
import static dev.keel.io.uring.UringOps.RECV_CANCELLING;
import static dev.keel.io.uring.UringOps.SEND_BUSY;
import static dev.keel.io.uring.UringOps.STARVED;
import static dev.keel.io.uring.UringOps.userData;

/**
 * The io_uring transport's end-of-pass sweep: every connection touched during a pass is
 * marked dirty, and just before the pass's io_uring_enter each one is brought in line with its
 * flags — held input delivered, its recv armed or cancelled, its queue sent or its file region
 * stepped, writability asked for. Requests are only prepared here; they go to the kernel with
 * the pass's one submission. Loop thread only.
 *
 * <p>Bound: the dirty list holds each slot at most once (the slot's FLAG_DIRTY), so its
 * capacity is the connection table's and it never grows.
 */
final class UringSweep {
    private final UringPoller poller;
    private final PollerHost loop;
    private final ConnectionTable table;
    private final OutboundQueue outbound;
    private final FileRegions files;
    private final UringReceiveBuffers receive;
    private final UringReceives receives;
    private final UringSends sends;
    private final UringFiles fileSteps;
    private final IoUringPrep prep;
    private final int fileFlag;
    private final int[] dirty;
    private int dirtyCount;

    UringSweep(UringPoller poller, PollerHost loop, UringReceiveBuffers receive, UringReceives receives,
               UringSends sends, UringFiles fileSteps, IoUringPrep prep, int fileFlag) {
        this.poller = poller;
        this.loop = loop;
        this.table = loop.table();
        this.outbound = loop.outbound();
        this.files = outbound.files();
        this.receive = receive;
        this.receives = receives;
        this.sends = sends;
        this.fileSteps = fileSteps;
        this.prep = prep;
        this.fileFlag = fileFlag;
        this.dirty = new int[table.capacity()];
    }

    /** Puts {@code slot} on this pass's sweep, once. */
    void markDirty(int slot) {
        if (!table.hasFlag(slot, FLAG_DIRTY)) {
            table.setFlag(slot, FLAG_DIRTY);
            dirty[dirtyCount++] = slot;
        }
    }

    /**
     * Serves every dirty connection, then those whose receive waited for a free buffer and can
     * have one now. Handlers called from here may touch more connections; they are served in
     * the same sweep.
     */
    void flush() {
        for (int i = 0; i < dirtyCount; i++) {
            service(dirty[i]);
        }
        dirtyCount = 0;
        int slot;
        while ((slot = receive.nextUnstarved()) >= 0) {
            poller.clearState(slot, STARVED);
            service(slot);
        }
    }

    private void service(int slot) {
        table.clearFlag(slot, FLAG_DIRTY);
        if (!table.hasFlag(slot, FLAG_OPEN) || table.hasFlag(slot, FLAG_CONNECTING)) {
            return;
        }
        Connection c = loop.connection(slot);
        if ((receive.holds(slot) || poller.hasState(slot, EOF_HELD)) && receives.wantsInput(slot)) {
            receives.deliverHeld(slot, c);
            if (!table.isLive(c.handle())) {
                return;
            }
        }
        if (receives.readable(slot)) {
            if (!poller.hasState(slot, RECV_ARMED)) {
                if (receive.available() > 0) {
                    receives.armRecv(slot);
                } else if (!poller.hasState(slot, STARVED)) {
                    table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | STARVED);
                    receive.starve(slot);
                }
            }
        } else if (poller.hasState(slot, RECV_ARMED) && !poller.hasState(slot, RECV_CANCELLING)) {
            receives.cancelRecv(slot);
        }
        if (!poller.hasState(slot, SEND_BUSY)) {
            if (outbound.sendable(slot) > 0) {
                send(slot);
            } else if (files.active(slot)) {
                if (!poller.hasState(slot, FILE_WAIT)) {
                    fileSteps.step(slot);
                } else if (!poller.hasState(slot, POLL_OUT_ARMED)) {
                    armPollOut(slot);
                }
            } else if (table.hasFlag(slot, FLAG_WANT_WRITE) && !poller.hasState(slot, POLL_OUT_ARMED)) {
                armPollOut(slot);
            }
        }
    }

    private void send(int slot) {
        int s = poller.sqe();
        // Bytes before a file region (a response head) go with MSG_MORE: they share a segment with the file's first.
        sends.prepare(s, slot, poller.kernelFd(slot), userData(OP_SEND, slot), files.active(slot) ? MSG_MORE : 0);
        prep.addFlags(s, fileFlag);
        poller.opStarted(slot, SEND_BUSY);
    }

    private void armPollOut(int slot) {
        int s = poller.sqe();
        prep.pollAdd(s, poller.kernelFd(slot), EPOLLOUT, userData(OP_POLL_OUT, slot));
        prep.addFlags(s, fileFlag);
        poller.opStarted(slot, POLL_OUT_ARMED);
    }
}
