package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.INADDR_LOOPBACK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Test plumbing: a connected TCP pair on 127.0.0.1 made with plain downcalls, so the tests of
 * SendFile and Splice get real socket descriptors without depending on the {@code Sockets}
 * binding (written in parallel). Never the call under test.
 */
final class TestSockets {
    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = handle("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = handle("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle CONNECT = handle("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ACCEPT4 = handle("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    // sin_addr is in network byte order; the port getsockname writes is copied back untouched.
    private static final ValueLayout.OfInt NET_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);

    private TestSockets() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return Downcalls.errnoHandle(name, fd, false);
    }

    /**
     * A connected pair {@code {client, server}}: {@code server} comes from accept4 with
     * {@code acceptFlags} (e.g. SOCK_NONBLOCK). When {@code bufferBytes > 0} both ends get
     * that SO_SNDBUF and SO_RCVBUF (set before connect, so the window stays small), which
     * makes a multi-megabyte transfer fill the socket and exercise partial sends.
     */
    static int[] tcpPair(int acceptFlags, int bufferBytes) {
        int listener = -1;
        int client = -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SockaddrIn.SIZE, SockaddrIn.ALIGNMENT);
            addr.set(JAVA_SHORT, SockaddrIn.SIN_FAMILY, (short) AF_INET);
            addr.set(NET_INT, SockaddrIn.SIN_ADDR, INADDR_LOOPBACK);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, (int) SockaddrIn.SIZE);
            MemorySegment st = CallState.current();

            listener = check("socket", (int) SOCKET.invokeExact(st, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st);
            if (bufferBytes > 0) {
                buffers(listener, bufferBytes, arena);
            }
            check("bind", (int) BIND.invokeExact(st, listener, addr, (int) SockaddrIn.SIZE), st);
            check("listen", (int) LISTEN.invokeExact(st, listener, 1), st);
            check("getsockname", (int) GETSOCKNAME.invokeExact(st, listener, addr, len), st);

            client = check("socket", (int) SOCKET.invokeExact(st, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st);
            if (bufferBytes > 0) {
                buffers(client, bufferBytes, arena);
            }
            check("connect", (int) CONNECT.invokeExact(st, client, addr, (int) SockaddrIn.SIZE), st);
            int server = check("accept4", (int) ACCEPT4.invokeExact(st, listener, MemorySegment.NULL,
                    MemorySegment.NULL, acceptFlags | SOCK_CLOEXEC), st);
            return new int[] {client, server};
        } catch (Throwable t) {
            if (client >= 0) {
                Files.close(client);
            }
            throw Downcalls.rethrow(t);
        } finally {
            if (listener >= 0) {
                Files.close(listener);
            }
        }
    }

    private static void buffers(int fd, int bytes, Arena arena) throws Throwable {
        MemorySegment value = arena.allocate(JAVA_INT);
        value.set(JAVA_INT, 0, bytes);
        MemorySegment st = CallState.current();
        check("setsockopt", (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_SNDBUF, value, (int) JAVA_INT.byteSize()), st);
        check("setsockopt", (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_RCVBUF, value, (int) JAVA_INT.byteSize()), st);
    }

    private static int check(String call, int r, MemorySegment st) {
        return Downcalls.check(call, r, st);
    }
}
