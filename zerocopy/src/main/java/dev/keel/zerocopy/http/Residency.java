package dev.keel.zerocopy.http;

import dev.keel.ffm.PageCache;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Whether a file range is in the page cache, asked without waiting for the disk: a one-byte
 * preadv2(2) with RWF_NOWAIT at the range's first byte and at its last, each of which fails
 * with EAGAIN when its page is not cached. Two probes, not every page: the pages between are
 * judged by their ends (a file is read, and evicted, mostly in runs), so a range with a hole in
 * its middle can still make sendfile wait; the probes cost two system calls per chunk of
 * {@link dev.keel.zerocopy.FileRegion#MAX_CHUNK}. A file system that cannot answer
 * (EOPNOTSUPP) is taken as resident, as before this check existed. A probe that misses also
 * starts the kernel's readahead of the page it asked for (the page cache reads ahead for
 * RWF_NOWAIT reads too; only the wait is skipped), so a second probe moments later may find it
 * cached. Loop-confined.
 */
final class Residency {
    private final MemorySegment scratch;
    private final MemorySegment iovec;
    private long probes;

    Residency(Arena arena) {
        scratch = arena.allocate(8, 8);
        iovec = arena.allocate(Uio.iovecArraySize(1), 16);
        Uio.setIovec(iovec, 0, scratch.address(), 1);
    }

    /** Whether the first and last byte of {@code [offset, offset + length)} of {@code fd} are cached. */
    boolean resident(int fd, long offset, long length) {
        if (length <= 0) {
            return true;
        }
        return cached(fd, offset) && (length == 1 || cached(fd, offset + length - 1));
    }

    private boolean cached(int fd, long at) {
        probes++;
        long n;
        try {
            n = PageCache.preadNoWait(fd, iovec, at);
        } catch (SyscallException e) {
            return true; // not a question of the cache (EIO...): the send will meet the error and say so
        }
        return n != -Errno.EAGAIN;
    }

    /** System calls made so far (one per byte probed). */
    long probes() {
        return probes;
    }
}
