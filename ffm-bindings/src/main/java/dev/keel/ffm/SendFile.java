package dev.keel.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * sendfile(2): copies file pages to a socket inside the kernel, so a file's bytes never pass
 * through Java.
 *
 * <pre>{@code ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count);}</pre>
 *
 * <p>The file offset lives in a caller's 8-byte segment ({@code off_t}, one per transfer, kept
 * across calls) which the kernel advances by the bytes sent; the file's own position is left
 * alone, so many connections can send one open file at once.
 */
public final class SendFile {
    // Not critical: on a blocking socket, or a file page not in the cache, sendfile sleeps.
    private static final MethodHandle SENDFILE = Downcalls.errnoHandle("sendfile",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG), false);

    private SendFile() {
    }

    /**
     * Sends up to {@code count} bytes of {@code inFd} from the {@code off_t} held in
     * {@code offset} (8 bytes, native; updated to just past the last byte sent) to
     * {@code outFd}. Pass {@link MemorySegment#NULL} to read from, and advance, the file's own
     * position instead.
     *
     * @return bytes sent (0 at end of file, or less than {@code count} when the socket buffer
     *         fills), or {@code -EAGAIN} when a non-blocking {@code outFd} has no room at all,
     *         or {@code -EINTR}; any other failure throws {@link SyscallException}
     */
    public static long sendfile(int outFd, int inFd, MemorySegment offset, long count) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("sendfile", (long) SENDFILE.invokeExact(st, outFd, inFd, offset, count), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
