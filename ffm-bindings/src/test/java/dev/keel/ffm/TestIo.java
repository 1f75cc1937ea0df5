package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Test plumbing: read(2), write(2) and recv(2) on any descriptor, so the tests of SendFile,
 * Splice and TimerFd can feed and drain pipes and sockets without depending on {@code Uio}
 * (owned elsewhere). Never the call under test.
 */
final class TestIo {
    private static final MethodHandle READ = Downcalls.errnoHandle("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), false);
    private static final MethodHandle WRITE = Downcalls.errnoHandle("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), false);
    private static final MethodHandle RECV = Downcalls.errnoHandle("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), false);

    private TestIo() {
    }

    /** read(2); {@code -EAGAIN} on an empty non-blocking descriptor. */
    static long read(int fd, MemorySegment buf, long len) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("read", (long) READ.invokeExact(st, fd, buf, len), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** recv(2) with {@code flags} (MSG_DONTWAIT for a non-blocking drain); {@code -EAGAIN} when empty. */
    static long recv(int fd, MemorySegment buf, long len, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("recv", (long) RECV.invokeExact(st, fd, buf, len, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Writes all of {@code bytes} to a blocking descriptor. */
    static void writeFully(int fd, byte[] bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, JAVA_BYTE, 0, bytes.length);
            long done = 0;
            while (done < bytes.length) {
                MemorySegment st = CallState.current();
                long n = (long) WRITE.invokeExact(st, fd, buf.asSlice(done), bytes.length - done);
                if (n < 0 && CallState.errno(st) != Errno.EINTR) {
                    throw new SyscallException("write", CallState.errno(st));
                }
                done += Math.max(0, n);
            }
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
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
