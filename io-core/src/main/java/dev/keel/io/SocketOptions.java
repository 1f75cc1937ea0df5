package dev.keel.io;

import dev.keel.ffm.Sockets;

import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_BUSY_POLL;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;
import static dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY;

/** The socket options of {@link LoopOptions}, set on an accepted socket by the transport that registers it. */
final class SocketOptions {
    private SocketOptions() {
    }

    /**
     * Applies the options to accepted socket {@code fd} (or to a listener, whose accepted
     * sockets inherit them), counting each setsockopt in {@code stats}.
     *
     * @throws dev.keel.ffm.SyscallException when the kernel refuses one
     */
    static void apply(LoopOptions options, LoopStats stats, int fd) {
        if (options.tcpNoDelay) {
            Sockets.setInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
            stats.syscalls++;
        }
        if (options.receiveBuffer > 0) {
            Sockets.setInt(fd, SOL_SOCKET, SO_RCVBUF, options.receiveBuffer);
            stats.syscalls++;
        }
        if (options.sendBuffer > 0) {
            Sockets.setInt(fd, SOL_SOCKET, SO_SNDBUF, options.sendBuffer);
            stats.syscalls++;
        }
        if (options.socketBusyPollMicros > 0) {
            Sockets.setInt(fd, SOL_SOCKET, SO_BUSY_POLL, options.socketBusyPollMicros);
            stats.syscalls++;
        }
    }
}
