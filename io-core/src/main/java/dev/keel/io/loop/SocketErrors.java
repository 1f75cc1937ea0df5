package dev.keel.io.loop;

import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;
import dev.keel.io.CloseReason;

/**
 * What a failed read, write, send or shutdown on a connection's socket means. The peer's
 * doing — EPIPE, ECONNRESET, and ENOTCONN once a reset left the socket unconnected — is a
 * {@link CloseReason#RESET}; what the network or the kernel's
 * memory did (ETIMEDOUT, EHOSTUNREACH, ENOBUFS, ...) closes the connection as an
 * {@link CloseReason#ERROR}; and what only a wrong program causes — a bad descriptor (EBADF,
 * ENOTSOCK), a bad address (EFAULT), a bad argument (EINVAL, EOPNOTSUPP, ...) — is a
 * programming error: the connection closes as an error and the call's exception is thrown,
 * so that the bug is seen rather than counted as a peer that went away.
 */
public final class SocketErrors {
    private SocketErrors() {
    }

    /** Whether {@code errno} from a socket call can only come from a wrong program. */
    public static boolean isProgrammingError(int errno) {
        return errno == Errno.EBADF || errno == Errno.EFAULT || errno == Errno.EINVAL || errno == Errno.ENOTSOCK
                || errno == Errno.EOPNOTSUPP || errno == Errno.EDESTADDRREQ || errno == Errno.EISCONN;
    }

    /** The close reason of a connection whose socket call failed with {@code errno}. */
    public static CloseReason reason(int errno) {
        if (errno == Errno.EPIPE || errno == Errno.ECONNRESET || errno == Errno.ENOTCONN) {
            return CloseReason.RESET;
        }
        return CloseReason.ERROR;
    }

    /**
     * Closes the connection in {@code slot} of {@code loop} for {@code failure}; throws the
     * failure when it is a programming error.
     */
    public static void closeFor(PollerHost loop, int slot, SyscallException failure) {
        loop.closeNow(slot, reason(failure.errno()));
        if (isProgrammingError(failure.errno())) {
            throw failure;
        }
    }

    /**
     * {@link #closeFor(PollerHost, int, SyscallException)} for a completion's {@code call} that
     * failed with {@code errno}.
     */
    public static void closeFor(PollerHost loop, int slot, String call, int errno) {
        loop.closeNow(slot, reason(errno));
        if (isProgrammingError(errno)) {
            throw new SyscallException(call, errno);
        }
    }
}
