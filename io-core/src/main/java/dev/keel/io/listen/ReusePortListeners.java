package dev.keel.io.listen;

import dev.keel.ffm.Files;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_REUSEADDR;
import static dev.keel.ffm.gen.LinuxConstants.SO_REUSEPORT;

/**
 * N non-blocking listening sockets on one port, bound with SO_REUSEPORT so the kernel spreads
 * new connections over them: one per loop, with no hand-off between threads.
 */
public final class ReusePortListeners {
    private ReusePortListeners() {
    }

    /**
     * Opens {@code count} listeners on {@code host:port} ({@code port} 0 picks a free one,
     * shared by all). A port someone already listens on fails with {@code bind: EADDRINUSE};
     * after any failure nothing is left open.
     */
    public static int[] open(InetAddress host, int port, int count, int backlog) {
        int[] fds = new int[count];
        java.util.Arrays.fill(fds, -1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sockaddr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            int actualPort = port;
            if (actualPort != 0) {
                refuseIfInUse(host, actualPort, sockaddr);
            }
            for (int i = 0; i < count; i++) {
                fds[i] = listen(new InetSocketAddress(host, actualPort), sockaddr, backlog);
                if (actualPort == 0) {
                    actualPort = port(fds[i]);
                }
            }
            return fds;
        } catch (RuntimeException e) {
            for (int fd : fds) {
                if (fd >= 0) {
                    Files.close(fd);
                }
            }
            throw e;
        }
    }

    /** The port {@code fd} is bound to. */
    public static int port(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sockaddr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            Sockets.localAddress(fd, sockaddr);
            return SocketAddresses.read(sockaddr).getPort();
        }
    }

    private static int listen(InetSocketAddress at, MemorySegment sockaddr, int backlog) {
        int fd = Sockets.socket(SocketAddresses.family(at), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        try {
            Sockets.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
            Sockets.setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
            Sockets.bind(fd, sockaddr, SocketAddresses.write(at, sockaddr));
            Sockets.listen(fd, backlog);
            return fd;
        } catch (RuntimeException e) {
            Files.close(fd);
            throw e;
        }
    }

    /**
     * SO_REUSEPORT would let these listeners join another process's on the same port; a bind
     * without it fails if anyone listens there, which is the refusal users expect.
     */
    private static void refuseIfInUse(InetAddress host, int port, MemorySegment sockaddr) {
        InetSocketAddress at = new InetSocketAddress(host, port);
        int probe = Sockets.socket(SocketAddresses.family(at), SOCK_STREAM | SOCK_CLOEXEC, 0);
        try {
            Sockets.setInt(probe, SOL_SOCKET, SO_REUSEADDR, 1);
            Sockets.bind(probe, sockaddr, SocketAddresses.write(at, sockaddr));
        } catch (SyscallException e) {
            if (e.errno() == Errno.EADDRINUSE) {
                throw new SyscallException("bind", e.errno(), "port " + port + " on " + host.getHostAddress()
                        + " is in use");
            }
            throw e;
        } finally {
            Files.close(probe);
        }
    }
}
