package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Test plumbing for the SendFile, Splice and TimerFd tests: read, recv, whole writes and
 * drains on keel's own Uio binding. Never the call under test.
 */
final class TestIo {
    private TestIo() {
    }

    /** read(2); {@code -EAGAIN} on an empty non-blocking descriptor. */
    static long read(int fd, MemorySegment buf, long len) {
        return Uio.readBlocking(fd, buf, len);
    }

    /** recv(2): with MSG_DONTWAIT it never blocks ({@code -EAGAIN} when empty); with 0 it waits for data. */
    static long recv(int fd, MemorySegment buf, long len, int flags) {
        return (flags & MSG_DONTWAIT) != 0 ? Uio.recv(fd, buf, len, flags) : Uio.readBlocking(fd, buf, len);
    }

    /** Writes all of {@code bytes} to a blocking descriptor. */
    static void writeFully(int fd, byte[] bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE, 0, bytes.length);
            long done = 0;
            while (done < bytes.length) {
                done += Math.max(0, Uio.writeBlocking(fd, buf.asSlice(done), bytes.length - done));
            }
        }
    }

    /** Reads exactly {@code count} bytes from a blocking descriptor; fails on an early EOF. */
    static byte[] readFully(int fd, int count) {
        byte[] out = new byte[count];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, Math.min(count, 1 << 16)));
            int done = 0;
            while (done < count) {
                long n = read(fd, buf, Math.min(buf.byteSize(), count - done));
                if (n == 0) {
                    throw new AssertionError("EOF after " + done + " of " + count + " bytes");
                }
                if (n > 0) {
                    MemorySegment.copy(buf, JAVA_BYTE, 0, out, done, (int) n);
                    done += (int) n;
                }
            }
        }
        return out;
    }

    /**
     * Appends to {@code received} (which holds {@code got} bytes) what a socket has: all that is
     * there with MSG_DONTWAIT, or at least one chunk with flags 0. Returns the new count.
     */
    static int drain(int fd, MemorySegment buf, byte[] received, int got, int flags) {
        int total = got;
        while (total < received.length) {
            long n = recv(fd, buf, Math.min(buf.byteSize(), received.length - total), flags);
            if (n == -Errno.EAGAIN) {
                return total;
            }
            if (n <= 0) {
                throw new AssertionError("recv returned " + n + " after " + total + " bytes");
            }
            MemorySegment.copy(buf, JAVA_BYTE, 0, received, total, (int) n);
            total += (int) n;
            if (flags == 0) {
                return total;
            }
        }
        return total;
    }
}
