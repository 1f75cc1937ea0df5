package dev.keel.ffm;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class UioTest {
    @Test
    void shouldGatherSeveralBuffersAndScatterThemBack() {
        try (TcpPair pair = TcpPair.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocateFrom("alpha-");
            MemorySegment b = arena.allocateFrom("beta-");
            MemorySegment c = arena.allocateFrom("gamma");
            MemorySegment iov = arena.allocate(Uio.iovecArraySize(3), 8);
            Uio.setIovec(iov, 0, a.address(), 6);
            Uio.setIovec(iov, 1, b.address(), 5);
            Uio.setIovec(iov, 2, c.address(), 5);
            assertEquals(16, Uio.writev(pair.client(), iov, 3));

            MemorySegment x = arena.allocate(4);
            MemorySegment y = arena.allocate(12);
            Uio.setIovec(iov, 0, x.address(), 4);
            Uio.setIovec(iov, 1, y.address(), 12);
            long got = 0;
            while (got < 16) {
                long n = Uio.readv(pair.server(), iov, 2);
                assertEquals(16, n, "loopback delivers one writev whole");
                got += n;
            }
            assertArrayEquals("alph".getBytes(), x.toArray(JAVA_BYTE));
            assertArrayEquals("a-beta-gamma".getBytes(), y.toArray(JAVA_BYTE));
        }
    }

    @Test
    void shouldReturnEagainFromAnEmptyNonBlockingRead() {
        try (TcpPair pair = TcpPair.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            assertEquals(-dev.keel.ffm.gen.Errno.EAGAIN,
                    Uio.recv(pair.server(), buf, 8, dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT));
            MemorySegment one = arena.allocateFrom("z");
            assertEquals(1, Uio.write(pair.client(), one, 1));
            assertEquals(1, Uio.readBlocking(pair.server(), buf, 8));
        }
    }
}
