package dev.keel.zerocopy;

import dev.keel.io.pipe.Pipe;
import dev.keel.ffm.SendFile;
import dev.keel.ffm.Splice;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_MORE;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_MOVE;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A part of a file to send to a non-blocking socket without the bytes entering Java: a
 * descriptor, a start offset and a length, all longs, so files past 2 GiB work.
 *
 * <p>{@link #sendTo} uses sendfile(2); {@link #spliceTo} moves the bytes file -> pipe ->
 * socket with splice(2). Each call moves at most {@link #MAX_CHUNK} bytes and stops early
 * when the socket is full, returning {@code -EAGAIN} when it took nothing; the caller waits
 * for writability and calls again. A region is reusable ({@link #reset}) and keeps its
 * kernel-visible {@code off_t} in an 8-byte native cell of its own, so a transfer allocates
 * nothing. Not thread-safe: a region belongs to one connection on one loop.
 */
public final class FileRegion {
    /** Most bytes one call moves, so one large file cannot monopolise a loop. */
    public static final long MAX_CHUNK = 2L * 1024 * 1024;

    /** What {@link #sendTo} and {@link #spliceTo} return when the socket took nothing. */
    public static final long AGAIN = -Errno.EAGAIN;

    private final MemorySegment offset;
    private int fd = -1;
    private long start;
    private long count;
    private long sent;

    private FileRegion(MemorySegment offsetCell) {
        this.offset = offsetCell;
    }

    /** A region whose offset cell comes from {@code allocator} (an arena that outlives it). */
    public static FileRegion allocate(SegmentAllocator allocator) {
        return new FileRegion(allocator.allocate(JAVA_LONG));
    }

    /** Points the region at {@code count} bytes of {@code fd} from {@code position}. */
    public FileRegion reset(int fd, long position, long count) {
        if (position < 0 || count < 0) {
            throw new IllegalArgumentException("negative position or count: " + position + ", " + count);
        }
        this.fd = fd;
        this.start = position;
        this.count = count;
        this.sent = 0;
        offset.set(JAVA_LONG, 0, position);
        return this;
    }

    /** The file descriptor the region reads from (-1 before the first {@link #reset}). The region does not own it. */
    public int fd() {
        return fd;
    }

    /** File offset of the next byte to deliver. */
    public long position() {
        return start + sent;
    }

    /** Bytes delivered to the socket so far. */
    public long transferred() {
        return sent;
    }

    /** Bytes still to deliver. */
    public long remaining() {
        return count - sent;
    }

    /** Whether every byte of the region has been sent. */
    public boolean isDone() {
        return sent == count;
    }

    /**
     * Records {@code n} bytes delivered by other means than {@link #sendTo} or {@link #spliceTo}
     * (read with pread and encrypted for TLS, for example).
     */
    public void advance(long n) {
        if (n < 0 || n > count - sent) {
            throw new IllegalArgumentException("advance by " + n + " with " + (count - sent) + " left");
        }
        sent += n;
        offset.set(JAVA_LONG, 0, start + sent);
    }

    /**
     * One sendfile(2) of up to {@link #MAX_CHUNK} bytes to {@code socketFd}.
     *
     * @return bytes sent (> 0); 0 when the region is done, or when the file ended before the
     *         region did (it was truncated: the caller must abort, a promised length cannot be
     *         kept); {@link #AGAIN} when the socket is full. Socket errors throw
     *         {@code SyscallException} (EPIPE, ECONNRESET).
     */
    public long sendTo(int socketFd) {
        long want = Math.min(count - sent, MAX_CHUNK);
        if (want == 0) {
            return 0;
        }
        long n;
        do {
            n = SendFile.sendfile(socketFd, fd, offset, want);
        } while (n == -Errno.EINTR);
        if (n > 0) {
            sent += n;
        }
        return n;
    }

    /**
     * Moves up to {@link #MAX_CHUNK} bytes file -> {@code pipe} -> {@code socketFd}. Bytes
     * that the socket did not take stay in the pipe and go first on the next call, so the
     * pipe must stay with this region until it is empty ({@link Pipe#isEmpty}).
     *
     * @return as {@link #sendTo}
     */
    public long spliceTo(int socketFd, Pipe pipe) {
        long moved = 0;
        while (moved < MAX_CHUNK) {
            if (!pipe.isEmpty()) {
                boolean more = sent + pipe.held() < count;
                long n = retry(Splice.splice(pipe.readFd(), MemorySegment.NULL, socketFd, MemorySegment.NULL,
                        pipe.held(), SPLICE_F_NONBLOCK | SPLICE_F_MOVE | (more ? SPLICE_F_MORE : 0)));
                if (n == AGAIN) {
                    return moved > 0 ? moved : AGAIN;
                }
                pipe.removed(n);
                sent += n;
                moved += n;
                continue;
            }
            long want = Math.min(Math.min(count - sent, pipe.capacity()), MAX_CHUNK - moved);
            if (want == 0) {
                return moved;
            }
            long n = retry(Splice.splice(fd, offset, pipe.writeFd(), MemorySegment.NULL, want,
                    SPLICE_F_NONBLOCK | SPLICE_F_MOVE));
            if (n == 0) {
                return moved; // end of file before the region's end: truncated
            }
            if (n == AGAIN) {
                return moved > 0 ? moved : AGAIN; // the pipe is full of someone else's bytes: never here
            }
            pipe.added(n);
        }
        return moved;
    }

    private long retry(long n) {
        // EINTR from a non-blocking splice means no byte moved: report it as "try later" only
        // if it repeats; the loop calls straight back, which is what a retry is.
        return n == -Errno.EINTR ? AGAIN : n;
    }
}
