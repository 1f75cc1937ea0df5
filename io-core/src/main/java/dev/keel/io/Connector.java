package dev.keel.io;

import dev.keel.ffm.Files;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_KEEPALIVE;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;
import static dev.keel.ffm.gen.LinuxConstants.TCP_KEEPCNT;
import static dev.keel.ffm.gen.LinuxConstants.TCP_KEEPIDLE;
import static dev.keel.ffm.gen.LinuxConstants.TCP_KEEPINTVL;
import static dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY;

/**
 * The transport-independent start of an outbound connection, on its loop thread: a
 * non-blocking socket of the remote's family, its {@link ConnectOptions} (TCP_NODELAY,
 * keep-alive, buffers, a local address), a slot in the table with the connect timeout on the
 * wheel, then the transport's connect ({@link dev.keel.io.loop.Poller#connect}: epoll's
 * connect(2) and EPOLLOUT, io_uring's IORING_OP_CONNECT). Whatever fails here reaches the
 * handler's {@code onConnectFailed} with the call and errno, nothing is left open, and
 * nothing is thrown on the loop. The sockaddr is encoded into one off-heap scratch area of
 * the loop's arena, reused by every connect (io_uring copies it into a pool buffer it holds
 * until the completion). Loop-confined.
 */
final class Connector {
    private final LoopCore core;
    private final MemorySegment sockaddr;

    Connector(LoopCore core) {
        this.core = core;
        this.sockaddr = core.arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
    }

    void connect(InetSocketAddress remote, ConnectionHandler handler, ConnectOptions options) {
        core.stats.connectsAttempted++;
        if (core.shuttingDown()) {
            failed(handler, ConnectFailure.other(remote, "loop shutting down"));
            return;
        }
        int fd;
        try {
            core.stats.syscalls++;
            fd = Sockets.socket(SocketAddresses.family(remote), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        } catch (SyscallException e) {
            failed(handler, ConnectFailure.syscall(remote, e.call(), e.errno()));
            return;
        }
        int kernelFd;
        try {
            configure(fd, options);
            kernelFd = core.poller.adoptSocket(fd);
        } catch (SyscallException e) {
            Files.closeQuietly(fd);
            failed(handler, ConnectFailure.syscall(remote, e.call(), e.errno()));
            return;
        }
        int slot = core.lifecycle.connecting(kernelFd, remote, handler, options.timeoutNanos);
        if (slot < 0) {
            core.poller.discardAccepted(kernelFd);
            failed(handler, ConnectFailure.other(remote, "the loop's connection table is full ("
                    + core.options.maxConnections + ")"));
            return;
        }
        int length = SocketAddresses.write(remote, sockaddr);
        core.poller.connect(slot, core.lifecycle.connection(slot), sockaddr, length);
    }

    /** The options that must be set before connect(2), on the plain fd (direct descriptors have none later). */
    private void configure(int fd, ConnectOptions o) {
        if (o.tcpNoDelay) {
            set(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        }
        if (o.keepAlive) {
            set(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
            set(fd, IPPROTO_TCP, TCP_KEEPIDLE, o.keepIdleSeconds);
            set(fd, IPPROTO_TCP, TCP_KEEPINTVL, o.keepIntervalSeconds);
            set(fd, IPPROTO_TCP, TCP_KEEPCNT, o.keepCount);
        }
        if (o.receiveBuffer > 0) {
            set(fd, SOL_SOCKET, SO_RCVBUF, o.receiveBuffer);
        }
        if (o.sendBuffer > 0) {
            set(fd, SOL_SOCKET, SO_SNDBUF, o.sendBuffer);
        }
        if (o.localAddress != null) {
            core.stats.syscalls++;
            Sockets.bind(fd, sockaddr, SocketAddresses.write(o.localAddress, sockaddr));
        }
    }

    private void set(int fd, int level, int option, int value) {
        core.stats.syscalls++;
        Sockets.setInt(fd, level, option, value);
    }

    private void failed(ConnectionHandler handler, ConnectFailure failure) {
        core.stats.connectsFailed++;
        try {
            handler.onConnectFailed(failure);
        } catch (Throwable t) {
            core.reportUnexpected(t);
        }
    }
}
