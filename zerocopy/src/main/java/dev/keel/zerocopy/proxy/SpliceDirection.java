package dev.keel.zerocopy.proxy;

import dev.keel.io.pipe.Pipe;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.Splice;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_MOVE;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_NONBLOCK;

/**
 * One direction of a proxied connection: bytes move from {@code src} into a pipe and from the
 * pipe to {@code dst} with splice(2), so they never enter user space.
 *
 * <p>Back-pressure is the pipe: when {@code dst} is full the bytes wait in the pipe, this
 * direction stops reading {@code src} (whose kernel buffer then fills, closing the sender's TCP
 * window) and asks to hear when {@code dst} is writable. End of stream is passed on as a
 * half-close: once {@code src} has ended and the pipe is empty, {@code dst} gets shutdown(SHUT_WR).
 */
final class SpliceDirection {
    /** Most bytes moved per call before the loop turns to other connections. */
    private static final long BUDGET = 1024 * 1024;

    final int src;
    final int dst;
    final Pipe pipe;
    boolean srcEnded;
    boolean dstShut;
    /** Bytes wait in the pipe for {@code dst} to take them. */
    boolean blocked;
    long moved;

    SpliceDirection(int src, int dst, Pipe pipe) {
        this.src = src;
        this.dst = dst;
        this.pipe = pipe;
    }

    /** Whether {@code src} should be watched for input. */
    boolean wantsInput() {
        return !srcEnded && !blocked;
    }

    /** Whether {@code dst} should be watched for room. */
    boolean wantsOutput() {
        return blocked;
    }

    /** True once the end of {@code src} has been passed on to {@code dst}. */
    boolean finished() {
        return dstShut;
    }

    /**
     * Moves what can be moved now. Socket errors (ECONNRESET, EPIPE) throw
     * {@code SyscallException}; the caller then aborts both sides.
     */
    void pump() {
        long budget = BUDGET;
        while (budget > 0) {
            if (!pipe.isEmpty()) {
                long n = Splice.splice(pipe.readFd(), MemorySegment.NULL, dst, MemorySegment.NULL, pipe.held(),
                        SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
                if (n < 0) {
                    blocked = true; // EAGAIN (or EINTR): wait for EPOLLOUT on dst
                    return;
                }
                pipe.removed(n);
                moved += n;
                budget -= n;
                continue;
            }
            blocked = false;
            if (srcEnded) {
                if (!dstShut) {
                    dstShut = true;
                    Sockets.shutdown(dst, SHUT_WR);
                }
                return;
            }
            long n = Splice.splice(src, MemorySegment.NULL, pipe.writeFd(), MemorySegment.NULL, pipe.capacity(),
                    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
            if (n == 0) {
                srcEnded = true;
                continue;
            }
            if (n < 0) {
                return; // EAGAIN: src has nothing now (the pipe was empty, so it was not full)
            }
            pipe.added(n);
        }
        // Out of budget: go on when dst can take more (at once if it can), which also drives a
        // direction whose source is no longer watched (see ProxyLoop on hang-ups).
        blocked = true;
    }
}
