package dev.keel.io.uring;

import dev.keel.io.loop.PollerHost;
import dev.keel.ffm.Files;
import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.gen.Errno;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FILE_INDEX_ALLOC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.io.uring.UringOps.OP_ACCEPT;
import static dev.keel.io.uring.UringOps.OP_IGNORE;
import static dev.keel.io.uring.UringOps.userData;

/**
 * The io_uring transport's accepting: one multishot accept on the loop's listener, into
 * process fds or (direct descriptors) fixed file slots the kernel picks, armed again whenever
 * the kernel ends it while the loop still accepts. Stopping cancels it; a socket it still
 * produces after that is closed, not leaked and not served. A failed accept follows the
 * accept policy both transports share (the loop's): a per-connection error is counted and the accept
 * goes on (re-armed if the kernel ended it), anything else pauses accepting for a retry on a
 * timer — never an accept re-armed at once onto the error that ended it.
 */
final class UringAcceptor {
    private final PollerHost loop;
    private final UringPass pass;
    private final IoUringPrep prep;
    private final int listenFd;
    private final boolean direct;
    private boolean armed;
    private boolean cancelling;

    UringAcceptor(PollerHost loop, UringPass pass, IoUringPrep prep, int listenFd, boolean direct) {
        this.loop = loop;
        this.pass = pass;
        this.prep = prep;
        this.listenFd = listenFd;
        this.direct = direct;
    }

    /** Whether an accept is in the kernel (armed, or cancelled and not yet completed). */
    boolean armed() {
        return armed;
    }

    void start() {
        if (!armed && listenFd >= 0) {
            int s = pass.sqe();
            if (direct) {
                // SOCK_CLOEXEC has no meaning for a fixed file and the kernel refuses it there.
                // Non-blocking like the plain sockets: a splice to the socket, run on an io-wq
                // worker, then ends with what fit (or EAGAIN) instead of holding the worker.
                prep.acceptDirect(s, listenFd, SOCK_NONBLOCK, true, IORING_FILE_INDEX_ALLOC, userData(OP_ACCEPT, 0));
            } else {
                prep.accept(s, listenFd, 0L, 0L, SOCK_NONBLOCK | SOCK_CLOEXEC, true, userData(OP_ACCEPT, 0));
            }
            armed = true;
        }
    }

    void stop() {
        if (armed && !cancelling) {
            prep.asyncCancel(pass.sqe(), userData(OP_ACCEPT, 0), 0, userData(OP_IGNORE, 0));
            cancelling = true;
        }
    }

    /** A completion of the accept: a new socket (fd or fixed slot) or an error. */
    void completed(int res, int flags) {
        if (!IoUring.hasMore(flags)) {
            armed = false;
            cancelling = false;
        }
        if (res >= 0) {
            if (loop.accepting()) {
                loop.accepted(res);
            } else {
                loop.acceptedUnserved();
                discard(res); // accepted while its cancel was on the way
            }
        } else if (res != -Errno.ECANCELED) { // ECANCELED: our own stop()
            loop.acceptFailed(-res); // the loop's accept policy pauses accepting unless the error was the one connection's
        }
        if (loop.accepting()) {
            start();
        }
    }

    /** Closes an accepted socket the loop does not serve. */
    void discard(int fd) {
        if (direct) {
            prep.closeDirect(pass.sqe(), fd, userData(OP_IGNORE, 0));
        } else {
            Files.close(fd);
        }
    }
}
