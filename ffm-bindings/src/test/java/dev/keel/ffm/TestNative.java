package dev.keel.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.AF_UNIX;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;

/** Test plumbing for the io_uring tests, on keel's own bindings; never the call under test. */
final class TestNative {
    private TestNative() {
    }

    /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected fds. */
    static int[] socketPair() {
        return Sockets.socketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }

    /** A TCP socket listening on 127.0.0.1 at an ephemeral port: {fd, port}. */
    static int[] listenOnLoopback() {
        try (Arena arena = Arena.ofConfined()) {
            int fd = TcpPair.listenOnLoopback(arena);
            return new int[] {fd, TcpPair.portOf(fd, arena)};
        }
    }

    static int open(String path, int flags) {
        return Files.open(path, flags, 0600);
    }

    static long write(int fd, MemorySegment buf) {
        return Uio.writeBlocking(fd, buf, buf.byteSize());
    }

    static long read(int fd, MemorySegment buf) {
        return Uio.readBlocking(fd, buf, buf.byteSize());
    }
}
