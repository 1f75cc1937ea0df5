package dev.keel.io.loop;

import dev.keel.ffm.gen.Errno;

import java.util.Arrays;

/**
 * The file region each connection may have queued ({@link dev.keel.io.Connection#writeFile}):
 * the file's descriptor, the offset of its next byte, the bytes still to send, and the
 * <em>fence</em> — how many bytes of the connection's {@link OutboundQueue} were queued before
 * the region and so go first. Bytes queued after the region wait behind it. At most one region
 * per connection; the table has one entry per connection slot (its stated capacity), in plain
 * arrays made once, so queueing a region allocates nothing.
 *
 * <p>Who owns what: the descriptor stays the caller's; the loop only reads from it, and only
 * until it reports the region done (sent or failed) or the connection released — the caller
 * keeps it open until then. Loop-confined.
 */
public final class FileRegions {
    /** A region's file ended before the region did (it was truncated meanwhile): the error it is reported with. */
    public static final int TRUNCATED = Errno.ENODATA;

    private final int[] fd;
    private final long[] position;
    private final long[] remaining;
    private final long[] fence;

    public FileRegions(int capacity) {
        fd = new int[capacity];
        Arrays.fill(fd, -1);
        position = new long[capacity];
        remaining = new long[capacity];
        fence = new long[capacity];
    }

    /** Whether {@code slot} has a region not yet sent to its last byte. */
    public boolean active(int slot) {
        return fd[slot] >= 0;
    }

    /** Queues a region of {@code length} bytes of {@code fileFd} from {@code offset}, behind {@code queuedBefore} bytes. */
    public void start(int slot, int fileFd, long offset, long length, long queuedBefore) {
        fd[slot] = fileFd;
        position[slot] = offset;
        remaining[slot] = length;
        fence[slot] = queuedBefore;
    }

    public int fd(int slot) {
        return fd[slot];
    }

    /** File offset of the region's next byte. */
    public long position(int slot) {
        return position[slot];
    }

    /** Bytes of the region still to send. */
    public long remaining(int slot) {
        return remaining[slot];
    }

    /** Queued bytes that go before the region (0 once they are out, or when there is no region). */
    public long fence(int slot) {
        return fence[slot];
    }

    /** The socket took {@code n} bytes of the region. */
    public void advance(int slot, long n) {
        position[slot] += n;
        remaining[slot] -= n;
    }

    /** The socket took {@code n} queued bytes: those before the region go first. */
    void queueConsumed(int slot, long n) {
        fence[slot] = Math.max(0, fence[slot] - n);
    }

    /** Forgets the region of {@code slot} (sent, failed, or the connection is gone). */
    public void clear(int slot) {
        fd[slot] = -1;
        remaining[slot] = 0;
        fence[slot] = 0;
    }

    /**
     * Whether {@code errno} from sendfile or splice of a region is the file's failure (EIO, a
     * file that cannot be read that way, a bad file descriptor, the truncation reported as
     * {@link #TRUNCATED}) rather than the socket's (the peer went away, the network failed).
     */
    public static boolean isFileError(int errno) {
        return errno == Errno.EIO || errno == Errno.EINVAL || errno == Errno.EBADF || errno == Errno.EOVERFLOW
                || errno == Errno.ESPIPE || errno == TRUNCATED || errno == Errno.ENXIO || errno == Errno.EISDIR;
    }
}
