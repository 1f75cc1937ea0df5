package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.Iovec;
import dev.keel.ffm.gen.LinuxLayouts.Mmsghdr;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_DGRAM;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * recvmmsg and sendmmsg over a UDP socket that talks to itself: batches both ways, and the
 * failures named precisely although the calls do not capture errno on their way (the retry
 * with errno captured must name what the first call met).
 */
class DatagramsTest {
    private static final int BATCH = 4;
    private static final int SLOT = 128;

    /** {@code n} mmsghdrs, each with one iovec of {@link #SLOT} bytes and the given name. */
    private static MemorySegment messages(Arena arena, int n, long name, int nameLen) {
        MemorySegment m = arena.allocate((Mmsghdr.SIZE + Iovec.SIZE + SLOT) * n, 8);
        for (int i = 0; i < n; i++) {
            long iov = Mmsghdr.SIZE * n + Iovec.SIZE * i;
            Datagrams.setIovec(m, iov, m.address() + (Mmsghdr.SIZE + Iovec.SIZE) * n + (long) SLOT * i, SLOT);
            Datagrams.setMsghdr(m, Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR, name, nameLen, m.address() + iov, 0, 0);
        }
        return m;
    }

    private static int boundSocket(MemorySegment name) {
        int fd = Sockets.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        Sockets.bind(fd, name, SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), name));
        return fd;
    }

    @Test
    void shouldSendAndReceiveABatchInOneCallEach() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            int fd = boundSocket(name);
            try {
                int nameLen = Sockets.localAddress(fd, name);
                MemorySegment out = messages(arena, BATCH, name.address(), nameLen);
                long payloads = (Mmsghdr.SIZE + Iovec.SIZE) * BATCH;
                for (int i = 0; i < BATCH; i++) {
                    out.asSlice(payloads + (long) SLOT * i, SLOT).fill((byte) (i + 1));
                }
                assertEquals(BATCH, Datagrams.sendmmsg(fd, out, BATCH, MSG_DONTWAIT));
                MemorySegment in = messages(arena, BATCH, 0, 0);
                assertEquals(BATCH, Datagrams.recvmmsg(fd, in, BATCH, MSG_DONTWAIT));
                for (int i = 0; i < BATCH; i++) {
                    assertEquals(SLOT, in.get(JAVA_INT, Mmsghdr.SIZE * i + Mmsghdr.MSG_LEN));
                    assertEquals((byte) (i + 1), in.get(JAVA_BYTE, payloads + (long) SLOT * i + SLOT - 1));
                }
            } finally {
                Files.close(fd);
            }
        }
    }

    @Test
    void shouldNameTheErrnoOfAFailedReceiveAndSend() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            int fd = boundSocket(name);
            try {
                MemorySegment in = messages(arena, 1, 0, 0);
                assertEquals(-Errno.EAGAIN, Datagrams.recvmmsg(fd, in, 1, MSG_DONTWAIT), "nothing queued");
                MemorySegment nowhere = messages(arena, 1, 0, 0);
                assertEquals(-Errno.EDESTADDRREQ, Datagrams.sendmmsg(fd, nowhere, 1, MSG_DONTWAIT),
                        "an unconnected socket needs an address");
            } finally {
                Files.close(fd);
            }
            assertEquals(-Errno.EBADF, Datagrams.recvmmsg(-1, messages(arena, 1, 0, 0), 1, MSG_DONTWAIT),
                    "no descriptor");
        }
    }
}
