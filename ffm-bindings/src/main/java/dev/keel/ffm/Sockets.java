package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * BSD sockets: socket(2), bind(2), listen(2), accept4(2), connect(2), getsockname(2),
 * getpeername(2), setsockopt(2)/getsockopt(2), shutdown(2), close(2).
 *
 * <pre>{@code
 * int socket(int domain, int type, int protocol);
 * int bind(int fd, const struct sockaddr *addr, socklen_t len);
 * int listen(int fd, int backlog);
 * int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
 * int connect(int fd, const struct sockaddr *addr, socklen_t len);
 * int setsockopt(int fd, int level, int name, const void *value, socklen_t len);
 * int shutdown(int fd, int how);
 * }</pre>
 * Addresses are caller segments encoded by {@link SocketAddresses}.
 */
public final class Sockets {
    private static final MethodHandle SOCKET = Downcalls.errnoHandle("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), true);
    private static final MethodHandle BIND = Downcalls.errnoHandle("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), true);
    private static final MethodHandle LISTEN = Downcalls.errnoHandle("listen",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), true);
    private static final MethodHandle ACCEPT4 = Downcalls.errnoHandle("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), true);
    // A blocking accept waits for a peer: no critical option.
    private static final MethodHandle ACCEPT4_BLOCKING = Downcalls.errnoHandle("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), false);
    private static final MethodHandle CONNECT = Downcalls.errnoHandle("connect",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), false);
    private static final MethodHandle GETSOCKNAME = Downcalls.errnoHandle("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle GETPEERNAME = Downcalls.errnoHandle("getpeername",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle SETSOCKOPT = Downcalls.errnoHandle("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), true);
    private static final MethodHandle GETSOCKOPT = Downcalls.errnoHandle("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle SOCKETPAIR = Downcalls.errnoHandle("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), true);
    private static final MethodHandle SHUTDOWN = Downcalls.errnoHandle("shutdown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), true);

    private Sockets() {
    }

    /** A new socket; {@code type} may carry SOCK_NONBLOCK and SOCK_CLOEXEC. */
    public static int socket(int domain, int type, int protocol) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("socket", (int) SOCKET.invokeExact(st, domain, type, protocol), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * socketpair(2): two connected sockets, returned as {@code {fd0, fd1}}.
     *
     * <pre>{@code int socketpair(int domain, int type, int protocol, int sv[2]);}</pre>
     */
    public static int[] socketPair(int domain, int type, int protocol) {
        MemorySegment st = CallState.current();
        MemorySegment sv = CallState.scratch();
        try {
            Downcalls.check("socketpair", (int) SOCKETPAIR.invokeExact(st, domain, type, protocol, sv), st);
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Binds {@code fd} to the {@code length}-byte sockaddr in {@code address}. */
    public static void bind(int fd, MemorySegment address, int length) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("bind", (int) BIND.invokeExact(st, fd, address, length), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * listen(2): lets {@code fd} accept connections, {@code backlog} pending at most (the kernel
     * caps it at {@code somaxconn}). One system call, allocates nothing; throws {@link
     * SyscallException} on failure.
     */
    public static void listen(int fd, int backlog) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("listen", (int) LISTEN.invokeExact(st, fd, backlog), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Accepts a connection from a non-blocking listener without its address. Returns the new
     * fd, or {@code -EAGAIN} when none is pending, {@code -EINTR}, or {@code -ECONNABORTED}
     * when the peer gave up while queued (that connection is gone; others may follow).
     * Anything else (EMFILE, ENFILE, ENOBUFS, ...) throws.
     */
    public static int accept(int fd, int flags) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) ACCEPT4.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
            if (r < 0 && CallState.errno(st) == Errno.ECONNABORTED) {
                return -Errno.ECONNABORTED; // a result, not a failure: a reactor counts it and goes on
            }
            return Downcalls.checkRetryable("accept4", r, st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Blocking accept4 that may wait for a peer; for tools and tests, not loops. */
    public static int acceptBlocking(int fd, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("accept4",
                    (int) ACCEPT4_BLOCKING.invokeExact(st, fd, MemorySegment.NULL, MemorySegment.NULL, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Connects {@code fd}. Returns 0, or {@code -EINPROGRESS} on a non-blocking socket whose
     * connection continues (wait for EPOLLOUT, then read SO_ERROR), or {@code -EINTR}.
     */
    public static int connect(int fd, MemorySegment address, int length) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) CONNECT.invokeExact(st, fd, address, length);
            if (r < 0) {
                int errno = CallState.errno(st);
                if (errno == Errno.EINPROGRESS || errno == Errno.EINTR) {
                    return -errno;
                }
                throw new SyscallException("connect", errno);
            }
            return r;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Writes the local address of {@code fd} into {@code address}; returns its length. */
    public static int localAddress(int fd, MemorySegment address) {
        return nameCall("getsockname", GETSOCKNAME, fd, address);
    }

    /** Writes the peer address of {@code fd} into {@code address}; returns its length. */
    public static int peerAddress(int fd, MemorySegment address) {
        return nameCall("getpeername", GETPEERNAME, fd, address);
    }

    private static int nameCall(String call, MethodHandle handle, int fd, MemorySegment address) {
        MemorySegment st = CallState.current();
        MemorySegment len = CallState.scratch();
        len.set(JAVA_INT, 0, (int) address.byteSize());
        try {
            Downcalls.check(call, (int) handle.invokeExact(st, fd, address, len), st);
            return len.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Sets an int-valued option such as TCP_NODELAY, SO_REUSEPORT or SO_SNDBUF. */
    public static void setInt(int fd, int level, int option, int value) {
        MemorySegment st = CallState.current();
        MemorySegment v = CallState.scratch();
        v.set(JAVA_INT, 0, value);
        try {
            Downcalls.check("setsockopt", (int) SETSOCKOPT.invokeExact(st, fd, level, option, v, 4), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Sets an option whose value is the struct in {@code value} (e.g. SO_LINGER). */
    public static void set(int fd, int level, int option, MemorySegment value) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("setsockopt",
                    (int) SETSOCKOPT.invokeExact(st, fd, level, option, value, (int) value.byteSize()), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Reads an int-valued option such as SO_ERROR or SO_RCVBUF. */
    public static int getInt(int fd, int level, int option) {
        MemorySegment st = CallState.current();
        MemorySegment v = CallState.scratch();
        v.set(JAVA_INT, 0, 0);
        v.set(JAVA_INT, 4, 4);
        try {
            Downcalls.check("getsockopt", (int) GETSOCKOPT.invokeExact(st, fd, level, option, v, v.asSlice(4)), st);
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR. */
    public static void shutdown(int fd, int how) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("shutdown", (int) SHUTDOWN.invokeExact(st, fd, how), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** close(2); see {@link Files#close}. */
    public static void close(int fd) {
        Files.close(fd);
    }
}
