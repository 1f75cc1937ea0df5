package dev.keel.io.uring;

import dev.keel.ffm.IoUringPrep;
import dev.keel.io.loop.ConnectionTable;

import static dev.keel.ffm.gen.LinuxConstants.IOSQE_IO_HARDLINK;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;
import static dev.keel.io.uring.UringOps.ADOPTING;
import static dev.keel.io.uring.UringOps.CLOSE_DEFERRED;
import static dev.keel.io.uring.UringOps.CONNECT_BUSY;
import static dev.keel.io.uring.UringOps.OP_CANCEL;
import static dev.keel.io.uring.UringOps.OP_CLOSE;
import static dev.keel.io.uring.UringOps.OP_CONNECT;
import static dev.keel.io.uring.UringOps.OP_POLL_OUT;
import static dev.keel.io.uring.UringOps.OP_RECV;
import static dev.keel.io.uring.UringOps.OP_SEND;
import static dev.keel.io.uring.UringOps.POLL_OUT_ARMED;
import static dev.keel.io.uring.UringOps.RECV_ARMED;
import static dev.keel.io.uring.UringOps.SEND_BUSY;
import static dev.keel.io.uring.UringOps.SHUTDOWN_BUSY;
import static dev.keel.io.uring.UringOps.userData;

/**
 * How the io_uring transport closes a retired connection's socket: when it may (not while the
 * socket is being moved into the fixed file table, a shutdown or a splice to it is in the
 * kernel: those completions close it), and how (each request still in flight on the socket
 * cancelled by its user_data, then the close, linked in one submission; nothing to cancel when
 * the peer's end of stream already ended the recv). The slot stays held until the close
 * completes, so its number is never reused under a request still in flight. Loop thread only.
 */
final class UringCloses {
    private final UringPoller poller;
    private final ConnectionTable table;
    private final UringPass pass;
    private final IoUringPrep prep;
    private final boolean direct;
    private final UringFiles files;
    private long cancels;

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
     * Cancels every request still in flight on the socket of retired {@code slot} and closes it
     * through the ring, the cancels and the close hard-linked in one submission.
     *
     * <p>Each cancel names its request by user_data, which the kernel finds in one bucket of its
     * cancel hash. A cancel keyed on the socket (IORING_ASYNC_CANCEL_FD) would instead make the
     * kernel walk every armed request of the ring, the multishot recvs of all other connections
     * included, so closing n connections at once cost it O(n^2) (19,000 idle connections closed
     * by their peers held the loop in io_uring_enter for 10-25 s, serving nobody). A connection
     * whose peer closed has nothing in flight (the end of the stream ended its recv): its close
     * goes alone. The requests that may wait on the socket here: the multishot recv, the send,
     * the poll for writability and the connect; a shutdown, a splice or a move into the fixed
     * file table delay the close until they complete ({@link #close}).
     */
    void cancelAndClose(int slot) {
        int fd = poller.kernelFd(slot);
        int state = table.getInt(slot, POLLER_STATE);
        int cancels = Integer.bitCount(state & (RECV_ARMED | SEND_BUSY | POLL_OUT_ARMED | CONNECT_BUSY));
        pass.reserve(cancels + 1); // the cancels and the close must share a submission to stay linked
        // A request in flight holds the socket open, so without its cancel a pending recv would
        // keep it alive. The hard links run the close after the cancels whatever they found.
        cancel(slot, state, RECV_ARMED, OP_RECV);
        cancel(slot, state, SEND_BUSY, OP_SEND);
        cancel(slot, state, POLL_OUT_ARMED, OP_POLL_OUT);
        cancel(slot, state, CONNECT_BUSY, OP_CONNECT);
        int close = poller.sqe();
        if (direct) {
            prep.closeDirect(close, fd, userData(OP_CLOSE, slot));
        } else {
            prep.close(close, fd, userData(OP_CLOSE, slot));
        }
        poller.opStarted(slot, 0);
    }

    private void cancel(int slot, int state, int busy, int op) {
        if ((state & busy) == 0) {
            return;
        }
        int s = poller.sqe();
        prep.asyncCancel(s, userData(op, slot), 0, userData(OP_CANCEL, slot));
        prep.addFlags(s, IOSQE_IO_HARDLINK);
        poller.opStarted(slot, 0);
        cancels++;
    }

    /** Cancels the closes of this loop sent to the kernel so far (each names one request). */
    long cancels() {
        return cancels;
    }
}
