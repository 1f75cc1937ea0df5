package dev.keel.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;

import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.AF_UNIX;
import static dev.keel.ffm.gen.LinuxConstants.INADDR_LOOPBACK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Test-only plumbing for the io_uring tests: a socket pair, open, and blocking read/write to
 * feed or drain the fd under test. The io_uring operations themselves are never done here.
 * (Sockets, Uio and Files own the real bindings; this keeps the io_uring branch independent.)
 */
final class TestNative {
    private static final MethodHandle SOCKETPAIR = Downcalls.errnoHandle("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), true);
    private static final MethodHandle OPEN = Downcalls.errnoHandle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), false);
    private static final MethodHandle WRITE = Downcalls.errnoHandle("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), false);
    private static final MethodHandle READ = Downcalls.errnoHandle("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), false);

    private static final MethodHandle SOCKET = Downcalls.errnoHandle("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), true);
    private static final MethodHandle BIND = Downcalls.errnoHandle("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), true);
    private static final MethodHandle LISTEN = Downcalls.errnoHandle("listen",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), true);
    private static final MethodHandle GETSOCKNAME = Downcalls.errnoHandle("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), true);
    private static final ValueLayout.OfShort NET_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NET_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private TestNative() {
    }

    /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected fds. */
    static int[] socketPair() {
        MemorySegment st = CallState.current();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            Downcalls.check("socketpair",
                    (int) SOCKETPAIR.invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), st);
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** A TCP socket listening on 127.0.0.1 at an ephemeral port: {fd, port}. */
    static int[] listenOnLoopback() {
        MemorySegment st = CallState.current();
        try (Arena a = Arena.ofConfined()) {
            int fd = Downcalls.check("socket", (int) SOCKET.invokeExact(st, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st);
            MemorySegment addr = a.allocate(SockaddrIn.SIZE, SockaddrIn.ALIGNMENT);
            addr.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_FAMILY, (short) AF_INET);
            addr.set(NET_INT, SockaddrIn.SIN_ADDR, INADDR_LOOPBACK);
            Downcalls.check("bind", (int) BIND.invokeExact(st, fd, addr, (int) SockaddrIn.SIZE), st);
            Downcalls.check("listen", (int) LISTEN.invokeExact(st, fd, 16), st);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, (int) SockaddrIn.SIZE);
            Downcalls.check("getsockname", (int) GETSOCKNAME.invokeExact(st, fd, addr, len), st);
            return new int[] {fd, Short.toUnsignedInt(addr.get(NET_SHORT, SockaddrIn.SIN_PORT))};
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static int open(String path, int flags) {
        MemorySegment st = CallState.current();
        try (Arena a = Arena.ofConfined()) {
            return Downcalls.check("open", (int) OPEN.invokeExact(st, a.allocateFrom(path), flags, 0600), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static long write(int fd, MemorySegment buf) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("write", (long) WRITE.invokeExact(st, fd, buf, buf.byteSize()), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static long read(int fd, MemorySegment buf) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("read", (long) READ.invokeExact(st, fd, buf, buf.byteSize()), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
