package dev.keel.zerocopy.http;

import dev.keel.ffm.Files;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_DIRECTORY;
import static dev.keel.ffm.gen.LinuxConstants.O_NOFOLLOW;
import static dev.keel.ffm.gen.LinuxConstants.O_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.O_PATH;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.RESOLVE_BENEATH;
import static dev.keel.ffm.gen.LinuxConstants.RESOLVE_NO_MAGICLINKS;
import static dev.keel.ffm.gen.LinuxConstants.RESOLVE_NO_SYMLINKS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Opens a normalised relative path ({@link RequestPath}) beneath the served root so that
 * nothing outside the root can be reached, whatever the path or the links in the tree say.
 *
 * <p>With openat2(2) (Linux 5.6+) the kernel enforces it: RESOLVE_BENEATH relative to the
 * root's descriptor refuses {@code ..} above the root, absolute paths and any symlink whose
 * target leaves it (EXDEV); RESOLVE_NO_MAGICLINKS refuses /proc-style links; with
 * {@code refuseSymlinks} RESOLVE_NO_SYMLINKS refuses every link. Where openat2 is missing
 * (ENOSYS, or a seccomp filter answering EPERM) the fallback walks the path one component at
 * a time with openat(O_NOFOLLOW), so no symlink is ever followed: safe, and stricter.
 *
 * <p>Files are opened O_NONBLOCK so that a FIFO planted in the root cannot stall a loop in
 * open(2); the caller then refuses anything but a regular file or a directory.
 *
 * <p>Results are a descriptor, or {@code -status}: 404 (no such file), 403 (a link or a
 * permission refused), 414 (name too long), 503 (out of descriptors), 500 (anything else).
 */
final class FileResolver {
    private static final int FILE_FLAGS = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
    private static final int MAX_WALK = 4096 + 64;

    private final int rootFd;
    private final boolean openat2;
    private final long resolve;
    private final MemorySegment how;
    private final MemorySegment walk;

    /**
     * @param rootFd         the root directory (an O_PATH descriptor is enough); not owned
     * @param refuseSymlinks refuse every symlink, not only those leaving the root
     * @param useOpenat2     false forces the component-by-component fallback
     * @param arena          where the resolver's two scratch buffers live
     */
    FileResolver(int rootFd, boolean refuseSymlinks, boolean useOpenat2, Arena arena) {
        this.rootFd = rootFd;
        this.openat2 = useOpenat2;
        this.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (refuseSymlinks ? RESOLVE_NO_SYMLINKS : 0);
        this.how = Files.openHow(Files.newOpenHow(arena), FILE_FLAGS, 0, resolve);
        this.walk = arena.allocate(MAX_WALK);
    }

    /** Whether openat2(2) works here, probed on the root itself. */
    static boolean openat2Available(int rootFd) {
        try {
            int fd = Files.openat2(rootFd, ".", O_PATH | O_CLOEXEC, 0, RESOLVE_BENEATH);
            Files.close(fd);
            return true;
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOSYS || e.errno() == Errno.EPERM) {
                return false;
            }
            throw e;
        }
    }

    boolean usesOpenat2() {
        return openat2;
    }

    /**
     * Opens {@code [0, length)} of {@code path} (NUL-terminated at {@code length}); fd or
     * {@code -status}. Failures are return values, not exceptions: a miss is an ordinary answer
     * and must cost nothing on the heap.
     */
    int open(MemorySegment path, int length) {
        int r = openat2 ? Files.tryOpenat2(rootFd, path, how) : walk(path, length);
        return r >= 0 ? r : -statusOf(-r);
    }

    /**
     * The fallback: every directory on the way is opened O_DIRECTORY | O_NOFOLLOW from the one
     * before, so a symlinked directory fails with ELOOP or ENOTDIR instead of being followed;
     * the last component is opened O_NOFOLLOW. ".." cannot occur: the path is normalised.
     * Returns the fd or {@code -errno}.
     */
    private int walk(MemorySegment path, int length) {
        if (length + 1 > MAX_WALK) {
            return -Errno.ENAMETOOLONG;
        }
        MemorySegment.copy(path, 0, walk, 0, length + 1);
        int dir = rootFd;
        int start = 0;
        try {
            while (true) {
                int slash = start;
                while (slash < length && walk.get(JAVA_BYTE, slash) != '/') {
                    slash++;
                }
                if (slash == length) {
                    return Files.tryOpenat(dir, walk.asSlice(start), FILE_FLAGS | O_NOFOLLOW, 0);
                }
                walk.set(JAVA_BYTE, slash, (byte) 0);
                int next = Files.tryOpenat(dir, walk.asSlice(start), O_RDONLY | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW, 0);
                if (next < 0) {
                    return next;
                }
                if (dir != rootFd) {
                    Files.close(dir);
                }
                dir = next;
                start = slash + 1;
            }
        } finally {
            if (dir != rootFd) {
                Files.close(dir);
            }
        }
    }

    static int statusOf(int errno) {
        if (errno == Errno.ENOENT || errno == Errno.ENOTDIR) {
            return 404;
        }
        if (errno == Errno.EXDEV || errno == Errno.ELOOP || errno == Errno.EACCES || errno == Errno.EPERM
                || errno == Errno.ENXIO) {
            return 403;
        }
        if (errno == Errno.ENAMETOOLONG) {
            return 414;
        }
        if (errno == Errno.EMFILE || errno == Errno.ENFILE || errno == Errno.ENOMEM) {
            return 503;
        }
        return 500;
    }
}
