package dev.keel.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;

/** A connected TCP pair on 127.0.0.1 made with keel's own Sockets binding (blocking descriptors). */
record TcpPair(int listener, int client, int server, int port) implements AutoCloseable {

    static int listenOnLoopback(Arena arena) {
        int fd = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
        int len = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), addr);
        Sockets.bind(fd, addr, len);
        Sockets.listen(fd, 16);
        return fd;
    }

    static int portOf(int fd, Arena arena) {
        MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
        Sockets.localAddress(fd, addr);
        return SocketAddresses.read(addr).getPort();
    }

    static TcpPair open() {
        try (Arena arena = Arena.ofConfined()) {
            int listener = listenOnLoopback(arena);
            int port = portOf(listener, arena);
            int client = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            int len = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), addr);
            int r = Sockets.connect(client, addr, len);
            if (r != 0) {
                throw new IllegalStateException("blocking connect returned " + r);
            }
            int server = Sockets.acceptBlocking(listener, SOCK_CLOEXEC);
            return new TcpPair(listener, client, server, port);
        }
    }

    @Override
    public void close() {
        Files.close(client);
        Files.close(server);
        Files.close(listener);
    }
}
