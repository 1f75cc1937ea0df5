package dev.keel.io;

import dev.keel.ffm.gen.Errno;

import java.net.InetSocketAddress;

/**
 * Why an outbound connection never opened, as told to {@link ConnectionHandler#onConnectFailed}:
 * the errno of the failed call (ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EMFILE, ...), or the
 * connect timeout of {@link ConnectOptions}, or the loop shutting down, or the loop having no
 * room (its connection table or buffer pool full).
 *
 * @param remote   the address that was being connected to
 * @param call     the system call that failed ({@code "connect"}, {@code "socket"}, ...), or null
 *                 when no call failed
 * @param errno    its errno, or 0 when no call failed
 * @param timedOut whether the connect timeout ended it
 * @param detail   a word on the cause when no call failed ({@code "timeout after PT2S"},
 *                 {@code "loop shutting down"}, ...), else null
 */
public record ConnectFailure(InetSocketAddress remote, String call, int errno, boolean timedOut, String detail) {
    static ConnectFailure syscall(InetSocketAddress remote, String call, int errno) {
        return new ConnectFailure(remote, call, errno, false, null);
    }

    static ConnectFailure timeout(InetSocketAddress remote, long nanos) {
        return new ConnectFailure(remote, null, 0, true, "timeout after " + java.time.Duration.ofNanos(nanos));
    }

    static ConnectFailure other(InetSocketAddress remote, String detail) {
        return new ConnectFailure(remote, null, 0, false, detail);
    }

    /** The errno's name ({@code "ECONNREFUSED"}), or null when no call failed. */
    public String errnoName() {
        return errno == 0 ? null : Errno.name(errno);
    }

    @Override
    public String toString() {
        String cause = errno != 0 ? call + ": " + Errno.name(errno) : detail;
        return "connect to " + remote + " failed: " + cause;
    }
}
