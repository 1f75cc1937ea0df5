package dev.keel.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;

/** Test plumbing: TCP pairs with small buffers for the SendFile and Splice tests; never the call under test. */
final class TestSockets {
    private TestSockets() {
    }

    /**
     * A connected pair {@code {client, server}}: {@code server} comes from accept4 with
     * {@code acceptFlags} (e.g. SOCK_NONBLOCK). When {@code bufferBytes > 0} both ends get
     * that SO_SNDBUF and SO_RCVBUF (set before connect, so the window stays small), which
     * makes a multi-megabyte transfer fill the socket and exercise partial sends.
     */
    static int[] tcpPair(int acceptFlags, int bufferBytes) {
        try (Arena arena = Arena.ofConfined()) {
            int listener = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            try {
                if (bufferBytes > 0) {
                    buffers(listener, bufferBytes);
                }
                MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
                int len = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), addr);
                Sockets.bind(listener, addr, len);
                Sockets.listen(listener, 1);
                Sockets.localAddress(listener, addr);
                int client = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (bufferBytes > 0) {
                    buffers(client, bufferBytes);
                }
                Sockets.connect(client, addr, len);
                int server = Sockets.acceptBlocking(listener, acceptFlags | SOCK_CLOEXEC);
                return new int[] {client, server};
            } finally {
                Files.close(listener);
            }
        }
    }

    private static void buffers(int fd, int bytes) {
        Sockets.setInt(fd, SOL_SOCKET, SO_SNDBUF, bytes);
        Sockets.setInt(fd, SOL_SOCKET, SO_RCVBUF, bytes);
    }
}
