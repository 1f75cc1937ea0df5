package dev.keel.io.uring;

import dev.keel.ffm.IoUringPrep;
import dev.keel.io.loop.ConnectionTable;

import static dev.keel.ffm.gen.LinuxConstants.IORING_ASYNC_CANCEL_ALL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ASYNC_CANCEL_FD_FIXED;
import static dev.keel.ffm.gen.LinuxConstants.IOSQE_IO_HARDLINK;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;
import static dev.keel.io.uring.UringOps.ADOPTING;
import static dev.keel.io.uring.UringOps.CLOSE_DEFERRED;
import static dev.keel.io.uring.UringOps.OP_CANCEL;
import static dev.keel.io.uring.UringOps.OP_CLOSE;
import static dev.keel.io.uring.UringOps.SHUTDOWN_BUSY;
import static dev.keel.io.uring.UringOps.userData;

/**
 * How the io_uring transport closes a retired connection's socket: when it may (not while the
 * socket is being moved into the fixed file table, a shutdown or a splice to it is in the
 * kernel: those completions close it), and how (every request on the socket cancelled, then
 * the close, linked in one submission). The slot stays held until the close completes, so its
 * number is never reused under a request still in flight. Loop thread only.
 */
final class UringCloses {
    private final UringPoller poller;
    private final ConnectionTable table;
    private final UringPass pass;
    private final IoUringPrep prep;
    private final boolean direct;
    private final UringFiles files;

    UringCloses(UringPoller poller, ConnectionTable table, UringPass pass, IoUringPrep prep, boolean direct,
                UringFiles files) {
        this.poller = poller;
        this.table = table;
        this.pass = pass;
        this.prep = prep;
        this.direct = direct;
        this.files = files;
    }

    /** Closes retired {@code slot}'s socket now, or marks it for the completion that will. */
    void close(int slot) {
        if (poller.hasState(slot, ADOPTING)) {
            return; // the move into the fixed file table completes first, and closes what it made
        }
        if (poller.hasState(slot, SHUTDOWN_BUSY)) {
            // The kernel runs a shutdown on an io-wq worker, which looks the descriptor (or fixed
            // slot) up only when it starts. Closed now, the number could be reused by the next
            // accept before that, and the shutdown would hit the new connection (its first send
            // failing with EPIPE). So the close waits for the shutdown's completion.
            // The shutdown in flight holds the slot meanwhile.
            table.setInt(slot, POLLER_STATE, table.getInt(slot, POLLER_STATE) | CLOSE_DEFERRED);
            return;
        }
        if (files.closeWaits(slot)) {
            return; // the close follows the splice's completion
        }
        cancelAndClose(slot);
    }

    /**
     * Cancels every request on the socket of retired {@code slot} and closes it through the ring,
     * the two linked in one submission.
     */
    void cancelAndClose(int slot) {
        int fd = poller.kernelFd(slot);
        pass.reserve(2); // the cancel and the close must share a submission to stay linked
        // Cancel every request on the socket, then close it: a request in flight holds the
        // socket open, so without the cancel a pending recv would keep it alive. The hard link
        // runs the close after the cancel whatever the cancel found.
        int cancel = poller.sqe();
        prep.asyncCancelFd(cancel, fd, IORING_ASYNC_CANCEL_ALL | (direct ? IORING_ASYNC_CANCEL_FD_FIXED : 0),
                userData(OP_CANCEL, slot));
        prep.addFlags(cancel, IOSQE_IO_HARDLINK);
        poller.opStarted(slot, 0);
        int close = poller.sqe();
        if (direct) {
            prep.closeDirect(close, fd, userData(OP_CLOSE, slot));
        } else {
            prep.close(close, fd, userData(OP_CLOSE, slot));
        }
        poller.opStarted(slot, 0);
    }
}
