package dev.keel.zerocopy;

import dev.keel.ffm.Files;
import dev.keel.ffm.Splice;
import dev.keel.ffm.SyscallException;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_NONBLOCK;

/**
 * A non-blocking pipe used as the kernel-side buffer of splice(2): bytes go in from a file or
 * a socket and out to a socket without ever being copied to user space. It counts the bytes
 * it holds, because a splice that stops half-way (the destination is full) leaves them in
 * the pipe, and such a pipe must not be handed to anyone else until they are gone.
 */
public final class Pipe implements AutoCloseable {
    private final int readFd;
    private final int writeFd;
    private final int capacity;
    private long held;
    private boolean closed;

    private Pipe(int readFd, int writeFd, int capacity) {
        this.readFd = readFd;
        this.writeFd = writeFd;
        this.capacity = capacity;
    }

    /**
     * A new pipe; {@code size > 0} asks F_SETPIPE_SZ for that capacity (rounded up by the
     * kernel, refused above /proc/sys/fs/pipe-max-size for the unprivileged, in which case
     * the default 64 KiB stays).
     */
    public static Pipe open(int size) {
        int[] fds = new int[2];
        Splice.pipe2(fds, O_NONBLOCK | O_CLOEXEC);
        int capacity;
        try {
            capacity = size > 0 ? setSize(fds[0], size) : Splice.pipeSize(fds[0]);
        } catch (RuntimeException e) {
            Files.close(fds[0]);
            Files.close(fds[1]);
            throw e;
        }
        return new Pipe(fds[0], fds[1], capacity);
    }

    private static int setSize(int fd, int size) {
        try {
            return Splice.setPipeSize(fd, size);
        } catch (SyscallException e) {
            return Splice.pipeSize(fd);
        }
    }

    /** The pipe's read end (splice from it into a socket). */
    public int readFd() {
        return readFd;
    }

    /** The pipe's write end (splice into it from a file or socket). */
    public int writeFd() {
        return writeFd;
    }

    /** Bytes the pipe can hold. */
    public int capacity() {
        return capacity;
    }

    /** Bytes put in and not yet taken out, as counted by the callers of {@link #added}/{@link #removed}. */
    public long held() {
        return held;
    }

    /** Whether the pipe holds no byte spliced in and not yet out, by this object's count. */
    public boolean isEmpty() {
        return held == 0;
    }

    /** Counts {@code n} bytes a splice into the pipe moved; every caller that splices in calls it. */
    public void added(long n) {
        held += n;
    }

    /** Counts {@code n} bytes a splice out of the pipe moved; every caller that splices out calls it. */
    public void removed(long n) {
        held -= n;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Files.close(readFd);
            Files.close(writeFd);
        }
    }
}
