package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.Iovec;
import dev.keel.ffm.gen.LinuxLayouts.Mmsghdr;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.MSG_ERRQUEUE;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Batched datagram I/O: recvmmsg(2) and sendmmsg(2) over arrays of {@code struct mmsghdr}, and
 * helpers that fill those arrays (layouts from the generator).
 *
 * <pre>{@code
 * int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout);
 * int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);
 * }</pre>
 * Unlike most bindings here, every failure comes back as {@code -errno} rather than a
 * {@link SyscallException}: on a datagram socket, errors such as ECONNREFUSED (an ICMP error
 * on a connected socket), EAGAIN (a full send buffer) or EMSGSIZE are events of the traffic,
 * reported to the application on the hot path, where an exception would allocate.
 * Non-blocking descriptors only (critical downcalls).
 *
 * <p>Both calls run without errno capture, so that they allocate nothing however the JIT
 * compiles the caller (see {@link Downcalls}). When one fails, errno is learnt by making the
 * same call again, non-blocking as the first, with errno captured: a failure that recurs (EAGAIN
 * with nothing queued or no room, EMSGSIZE, EBADF, ...) gives its errno, and one that passed
 * gives the second call's result — datagrams received or sent, which is what the caller
 * wanted. The one failure that does not recur is a pending socket error (an ICMP error on a
 * connected socket), which the first call consumes: a socket that must hear those keeps them
 * on its error queue as well (IP_RECVERR / IPV6_RECVERR), read with {@link #MSG_ERRQUEUE_FLAGS}.
 */
public final class Datagrams {
    /** recvmmsg flags that read one socket's error queue without blocking. */
    public static final int MSG_ERRQUEUE_FLAGS = MSG_ERRQUEUE | MSG_DONTWAIT;

    private static final FunctionDescriptor RECVMMSG_TYPE =
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
    private static final FunctionDescriptor SENDMMSG_TYPE =
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle RECVMMSG = Downcalls.plainHandle("recvmmsg", RECVMMSG_TYPE, true);
    private static final MethodHandle SENDMMSG = Downcalls.plainHandle("sendmmsg", SENDMMSG_TYPE, true);
    private static final MethodHandle RECVMMSG_ERRNO = Downcalls.errnoHandle("recvmmsg", RECVMMSG_TYPE, true);
    private static final MethodHandle SENDMMSG_ERRNO = Downcalls.errnoHandle("sendmmsg", SENDMMSG_TYPE, true);

    private Datagrams() {
    }

    /** Bytes of an array of {@code n} mmsghdr. */
    public static long mmsghdrArraySize(int n) {
        return Mmsghdr.SIZE * n;
    }

    /**
     * recvmmsg(2) without a timeout: datagrams received, or {@code -errno} (learnt as the class
     * comment says). {@code flags} must include MSG_DONTWAIT.
     */
    public static int recvmmsg(int fd, MemorySegment vec, int vlen, int flags) {
        int r;
        try {
            r = (int) RECVMMSG.invokeExact(fd, vec, vlen, flags, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
        return r >= 0 ? r : recvmmsgAgain(fd, vec, vlen, flags);
    }

    /**
     * sendmmsg(2): datagrams sent (the first {@code n}), or {@code -errno} when the first failed
     * (learnt as the class comment says). {@code flags} must include MSG_DONTWAIT.
     */
    public static int sendmmsg(int fd, MemorySegment vec, int vlen, int flags) {
        int r;
        try {
            r = (int) SENDMMSG.invokeExact(fd, vec, vlen, flags);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
        return r >= 0 ? r : sendmmsgAgain(fd, vec, vlen, flags);
    }

    /** The failed receive again, errno captured. Off the hot path: it may allocate. */
    private static int recvmmsgAgain(int fd, MemorySegment vec, int vlen, int flags) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) RECVMMSG_ERRNO.invokeExact(st, fd, vec, vlen, flags, MemorySegment.NULL);
            return r < 0 ? -CallState.errno(st) : r;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** The failed send again, errno captured. Off the hot path: it may allocate. */
    private static int sendmmsgAgain(int fd, MemorySegment vec, int vlen, int flags) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) SENDMMSG_ERRNO.invokeExact(st, fd, vec, vlen, flags);
            return r < 0 ? -CallState.errno(st) : r;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Fills message header {@code hdr} (at {@code offset} of {@code base}) with one iovec at
     * {@code iov}, a name buffer and a control buffer (0 address: none); flags cleared.
     */
    public static void setMsghdr(MemorySegment base, long offset, long name, int nameLen, long iov,
                                 long control, long controlLen) {
        base.set(JAVA_LONG, offset + Msghdr.MSG_NAME, name);
        base.set(JAVA_INT, offset + Msghdr.MSG_NAMELEN, nameLen);
        base.set(JAVA_LONG, offset + Msghdr.MSG_IOV, iov);
        base.set(JAVA_LONG, offset + Msghdr.MSG_IOVLEN, iov == 0 ? 0 : 1);
        base.set(JAVA_LONG, offset + Msghdr.MSG_CONTROL, control);
        base.set(JAVA_LONG, offset + Msghdr.MSG_CONTROLLEN, controlLen);
        base.set(JAVA_INT, offset + Msghdr.MSG_FLAGS, 0);
    }

    /** Sets one iovec at {@code offset} of {@code base}. */
    public static void setIovec(MemorySegment base, long offset, long address, long length) {
        base.set(JAVA_LONG, offset + Iovec.IOV_BASE, address);
        base.set(JAVA_LONG, offset + Iovec.IOV_LEN, length);
    }
}
