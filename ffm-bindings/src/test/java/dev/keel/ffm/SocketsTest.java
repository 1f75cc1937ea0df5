package dev.keel.ffm;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP;
import static dev.keel.ffm.gen.LinuxConstants.MSG_NOSIGNAL;
import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_REUSEPORT;
import static dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketsTest {
    @Test
    void shouldListenConnectAcceptAndExchangeBytes() {
        try (TcpPair pair = TcpPair.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocateFrom("ping");
            assertEquals(5, Uio.send(pair.client(), out, 5, MSG_NOSIGNAL));
            MemorySegment in = arena.allocate(16);
            assertEquals(5, Uio.readBlocking(pair.server(), in, 16));
            assertEquals("ping", in.getString(0));

            MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            Sockets.peerAddress(pair.server(), addr);
            assertEquals(InetAddress.getLoopbackAddress(), SocketAddresses.read(addr).getAddress());
            Sockets.localAddress(pair.server(), addr);
            assertEquals(pair.port(), SocketAddresses.read(addr).getPort());

            Sockets.shutdown(pair.client(), SHUT_WR);
            assertEquals(0, Uio.readBlocking(pair.server(), in, 16), "half-close reads as end of stream");
        }
    }

    @Test
    void shouldSetAndReadBackIntOptions() {
        try (TcpPair pair = TcpPair.open()) {
            Sockets.setInt(pair.client(), IPPROTO_TCP, TCP_NODELAY, 1);
            assertEquals(1, Sockets.getInt(pair.client(), IPPROTO_TCP, TCP_NODELAY));
            Sockets.setInt(pair.client(), IPPROTO_TCP, TCP_NODELAY, 0);
            assertEquals(0, Sockets.getInt(pair.client(), IPPROTO_TCP, TCP_NODELAY));
            Sockets.setInt(pair.listener(), SOL_SOCKET, SO_REUSEPORT, 1);
            assertEquals(1, Sockets.getInt(pair.listener(), SOL_SOCKET, SO_REUSEPORT));
        }
    }

    @Test
    void shouldReportEagainOnAnEmptyNonBlockingListener() {
        try (Arena arena = Arena.ofConfined()) {
            int fd = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            try {
                MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
                int len = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), addr);
                Sockets.bind(fd, addr, len);
                Sockets.listen(fd, 4);
                assertEquals(-dev.keel.ffm.gen.Errno.EAGAIN, Sockets.accept(fd, SOCK_NONBLOCK));
            } finally {
                Files.close(fd);
            }
        }
    }

    @Test
    void shouldNameEconnrefusedWhenThePortIsClosed() {
        try (Arena arena = Arena.ofConfined()) {
            int listener = TcpPair.listenOnLoopback(arena);
            int port = TcpPair.portOf(listener, arena);
            Files.close(listener); // the port is now closed
            int fd = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            try {
                MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
                int len = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), addr);
                SyscallException e = assertThrows(SyscallException.class, () -> Sockets.connect(fd, addr, len));
                assertEquals("ECONNREFUSED", e.errnoName());
                assertTrue(e.getMessage().startsWith("connect: ECONNREFUSED"), e.getMessage());
            } finally {
                Files.close(fd);
            }
        }
    }

    @Test
    void shouldNameEbadfForAClosedDescriptor() {
        SyscallException e = assertThrows(SyscallException.class, () -> Sockets.listen(-1, 1));
        assertEquals("listen: EBADF (Bad file descriptor)", e.getMessage());
    }

    @Test
    void shouldRoundTripAnIpv6Address() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            InetSocketAddress a = new InetSocketAddress("::1", 8443);
            SocketAddresses.write(a, addr);
            assertEquals(a, SocketAddresses.read(addr));
            assertEquals((byte) 0x20, addr.get(JAVA_BYTE, 2), "port in network order");
        }
    }
}
