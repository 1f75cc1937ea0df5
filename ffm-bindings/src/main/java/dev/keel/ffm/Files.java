package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxConstants;
import dev.keel.ffm.gen.LinuxLayouts.OpenHow;
import dev.keel.ffm.gen.LinuxLayouts.Stat;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * File descriptors of files: open(2), openat(2), openat2(2), fstat(2), close(2).
 *
 * <pre>{@code
 * int open(const char *pathname, int flags, ...);  // ... = mode_t mode
 * int openat(int dirfd, const char *pathname, int flags, ...);  // ... = mode_t mode
 * long syscall(SYS_openat2, int dirfd, const char *pathname, struct open_how *how, size_t size);
 * int fstat(int fd, struct stat *statbuf);
 * int close(int fd);
 * }</pre>
 *
 * <p>Paths are NUL-terminated native segments (for example {@code arena.allocateFrom(path)}
 * or a reused buffer filled with {@link MemorySegment#setString(long, String)}), so a server
 * resolving a path per request allocates nothing; the {@code String} overloads are for set-up
 * code. A {@code struct stat} is filled into a caller's segment ({@link #newStat}) and read
 * with the static accessors below.
 */
public final class Files {
    private static final MethodHandle OPEN = Downcalls.variadicHandle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle OPENAT = Downcalls.variadicHandle("openat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
    // fstat may have to revalidate attributes on a network file system: not critical.
    private static final MethodHandle FSTAT = Downcalls.errnoHandle("fstat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), false);
    private static final MethodHandle CLOSE = Downcalls.errnoHandle("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);

    private Files() {
    }

    /**
     * Opens {@code path} (a NUL-terminated native segment) with {@code flags} (O_*); {@code mode}
     * is used only with O_CREAT or O_TMPFILE. Returns the new descriptor; any failure, EINTR
     * included, throws {@link SyscallException} named {@code open}.
     */
    public static int open(MemorySegment path, int flags, int mode) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("open", (int) OPEN.invokeExact(st, path, flags, mode), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** {@link #open(MemorySegment, int, int)} for set-up code: encodes {@code path} as UTF-8. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return open(arena.allocateFrom(path), flags, mode);
        }
    }

    /**
     * Opens {@code path} relative to the directory {@code dirfd} (or AT_FDCWD); an absolute
     * path ignores {@code dirfd}. Otherwise as {@link #open(MemorySegment, int, int)}.
     */
    public static int openat(int dirfd, MemorySegment path, int flags, int mode) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("openat", (int) OPENAT.invokeExact(st, dirfd, path, flags, mode), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * openat(2) that returns {@code -errno} instead of throwing, for the same reason as
     * {@link #tryOpenat2}.
     *
     * @return the descriptor, or {@code -errno}
     */
    public static int tryOpenat(int dirfd, MemorySegment path, int flags, int mode) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) OPENAT.invokeExact(st, dirfd, path, flags, mode);
            return r < 0 ? -CallState.errno(st) : r;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** {@link #openat(int, MemorySegment, int, int)} for set-up code: encodes {@code path} as UTF-8. */
    public static int openat(int dirfd, String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return openat(dirfd, arena.allocateFrom(path), flags, mode);
        }
    }

    /**
     * openat2(2): opens {@code path} relative to {@code dirfd} under the rules of {@code how}, a
     * {@code struct open_how} filled by {@link #openHow}. With RESOLVE_BENEATH a path that
     * leaves {@code dirfd} ({@code ..}, an absolute path, a symlink pointing out) fails with
     * EXDEV; RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS refuse links with ELOOP. Those and
     * every other failure throw {@link SyscallException} named {@code openat2} (ENOSYS before
     * Linux 5.6). The one exception is EAGAIN, returned as {@code -EAGAIN}: with RESOLVE_CACHED
     * it means "not in the dentry cache, retry without RESOLVE_CACHED", a normal outcome.
     *
     * @param path a NUL-terminated path in native memory
     * @param how  a native segment of at least {@link OpenHow#SIZE} bytes
     */
    public static int openat2(int dirfd, MemorySegment path, MemorySegment how) {
        int r = tryOpenat2(dirfd, path, how);
        if (r < 0 && r != -Errno.EAGAIN) {
            throw new SyscallException("openat2", -r);
        }
        return r;
    }

    /**
     * {@link #openat2(int, MemorySegment, MemorySegment)} that returns {@code -errno} for every
     * failure instead of throwing: for a server resolving untrusted paths, where ENOENT, EXDEV
     * and ELOOP are ordinary answers (404, 403) that must cost no exception per request.
     *
     * @return the descriptor, or {@code -errno}
     */
    public static int tryOpenat2(int dirfd, MemorySegment path, MemorySegment how) {
        // The raw syscall takes addresses, so a heap segment would pass a meaningless number.
        if (!path.isNative() || !how.isNative()) {
            throw new IllegalArgumentException("openat2 needs native segments for path and open_how");
        }
        if (how.byteSize() < OpenHow.SIZE) {
            throw new IllegalArgumentException("open_how segment is " + how.byteSize() + " bytes, needs " + OpenHow.SIZE);
        }
        MemorySegment st = CallState.current();
        long r = Syscall.call4(st, LinuxConstants.SYS_openat2, dirfd, path.address(), how.address(), OpenHow.SIZE);
        return r < 0 ? -CallState.errno(st) : (int) r;
    }

    /** {@link #openat2(int, MemorySegment, MemorySegment)} for set-up code, building path and open_how itself. */
    public static int openat2(int dirfd, String path, long flags, long mode, long resolve) {
        try (Arena arena = Arena.ofConfined()) {
            return openat2(dirfd, arena.allocateFrom(path), openHow(newOpenHow(arena), flags, mode, resolve));
        }
    }

    /** A zeroed, aligned segment for a {@code struct open_how}. */
    public static MemorySegment newOpenHow(SegmentAllocator allocator) {
        return allocator.allocate(OpenHow.SIZE, OpenHow.ALIGNMENT);
    }

    /**
     * Writes a {@code struct open_how} into {@code how} and returns it. Unlike open(2),
     * openat2(2) rejects a non-zero {@code mode} without O_CREAT/O_TMPFILE (EINVAL), and
     * unknown bits in any field.
     */
    public static MemorySegment openHow(MemorySegment how, long flags, long mode, long resolve) {
        how.set(JAVA_LONG, OpenHow.FLAGS, flags);
        how.set(JAVA_LONG, OpenHow.MODE, mode);
        how.set(JAVA_LONG, OpenHow.RESOLVE, resolve);
        return how;
    }

    /** A zeroed, aligned segment for a {@code struct stat}, to be filled by {@link #fstat}. */
    public static MemorySegment newStat(SegmentAllocator allocator) {
        return allocator.allocate(Stat.SIZE, Stat.ALIGNMENT);
    }

    /** Fills {@code stat} (at least {@link Stat#SIZE} bytes, see {@link #newStat}) with fstat(2) of {@code fd}. */
    public static void fstat(int fd, MemorySegment stat) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("fstat", (int) FSTAT.invokeExact(st, fd, stat), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** {@code st_size}: the file's length in bytes. */
    public static long size(MemorySegment stat) {
        return stat.get(JAVA_LONG, Stat.ST_SIZE);
    }

    /** {@code st_mode}: file type (S_IFMT bits) and permission bits. */
    public static int mode(MemorySegment stat) {
        return stat.get(JAVA_INT, Stat.ST_MODE);
    }

    /** Whether {@code st_mode} says a regular file (a server refuses to send anything else). */
    public static boolean isRegularFile(MemorySegment stat) {
        return (mode(stat) & LinuxConstants.S_IFMT) == LinuxConstants.S_IFREG;
    }

    /** Whether {@code st_mode} says a directory. */
    public static boolean isDirectory(MemorySegment stat) {
        return (mode(stat) & LinuxConstants.S_IFMT) == LinuxConstants.S_IFDIR;
    }

    /** {@code st_ino}: the inode number; with {@link #dev} it names the file. */
    public static long ino(MemorySegment stat) {
        return stat.get(JAVA_LONG, Stat.ST_INO);
    }

    /** {@code st_dev}: the device holding the file. */
    public static long dev(MemorySegment stat) {
        return stat.get(JAVA_LONG, Stat.ST_DEV);
    }

    /** Seconds part of {@code st_mtim}, the last modification (e.g. for Last-Modified). */
    public static long mtimeSeconds(MemorySegment stat) {
        return stat.get(JAVA_LONG, Stat.ST_MTIM_SEC);
    }

    /** Nanoseconds part of {@code st_mtim}. */
    public static long mtimeNanos(MemorySegment stat) {
        return stat.get(JAVA_LONG, Stat.ST_MTIM_NSEC);
    }

    /**
     * Closes {@code fd}. EINTR is not retried: on Linux the descriptor is released even then
     * (close(2), "Dealing with error returns from close()").
     */
    public static void close(int fd) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) CLOSE.invokeExact(st, fd);
            if (r < 0 && CallState.errno(st) != Errno.EINTR) {
                throw new SyscallException("close", CallState.errno(st));
            }
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Closes {@code fd} if it is one (>= 0), ignoring a refusal: for tear-down paths, where
     * nothing more can be done with a descriptor the kernel will not close.
     */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                close(fd);
            } catch (SyscallException ignored) {
                // tearing down: nothing more to do
            }
        }
    }
}
