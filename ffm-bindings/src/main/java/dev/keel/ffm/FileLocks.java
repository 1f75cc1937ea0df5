package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.Flock;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static dev.keel.ffm.gen.LinuxConstants.F_OFD_GETLK;
import static dev.keel.ffm.gen.LinuxConstants.F_OFD_SETLK;
import static dev.keel.ffm.gen.LinuxConstants.F_UNLCK;
import static dev.keel.ffm.gen.LinuxConstants.F_WRLCK;
import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_CREAT;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.O_RDWR;
import static dev.keel.ffm.gen.LinuxConstants.SEEK_SET;
import static dev.keel.ffm.gen.LinuxConstants.S_IRGRP;
import static dev.keel.ffm.gen.LinuxConstants.S_IROTH;
import static dev.keel.ffm.gen.LinuxConstants.S_IRUSR;
import static dev.keel.ffm.gen.LinuxConstants.S_IWGRP;
import static dev.keel.ffm.gen.LinuxConstants.S_IWOTH;
import static dev.keel.ffm.gen.LinuxConstants.S_IWUSR;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Open file description locks: fcntl(2) with {@code F_OFD_SETLK} / {@code F_OFD_GETLK} on a
 * whole file, and the open(2) that makes the descriptor.
 *
 * <pre>{@code
 * int open(const char *pathname, int flags, ...);   // ... = mode_t mode
 * int fcntl(int fd, int cmd, ...);                  // ... = struct flock *lock
 * }</pre>
 *
 * <p>Why OFD locks rather than classic POSIX ({@code F_SETLK}) or {@code FileChannel.lock}:
 * a classic lock belongs to the process and is dropped when the process closes <em>any</em>
 * descriptor of the file, so merely reading a lock file to list its holder would release
 * it; and two threads of one process never conflict. An OFD lock belongs to the open file
 * description: it conflicts with every other description, in this process or another, and
 * is released only when its last descriptor closes, which the kernel also does when the
 * process dies, kill -9 included.
 */
public final class FileLocks {
    private static final MethodHandle OPEN = Downcalls.variadicHandle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle FCNTL = Downcalls.variadicHandle("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), 2);
    /** rw-rw-rw- before the umask: processes of other users may share the lock directory. */
    private static final int MODE = S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;

    private FileLocks() {
    }

    /** Opens (creating it if needed) {@code path} for locking: O_RDWR | O_CREAT | O_CLOEXEC. */
    public static int openForLock(String path) {
        return open(path, O_RDWR | O_CREAT | O_CLOEXEC);
    }

    /** Opens an existing {@code path} read-only, enough to ask who holds its lock. */
    public static int openToQuery(String path) {
        return open(path, O_RDONLY | O_CLOEXEC);
    }

    private static int open(String path, int flags) {
        MemorySegment st = CallState.current();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpath = arena.allocateFrom(path);
            int fd = (int) OPEN.invokeExact(st, cpath, flags, MODE);
            if (fd < 0) {
                throw new SyscallException("open", CallState.errno(st), path);
            }
            return fd;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Takes a write lock on the whole file without waiting (F_OFD_SETLK). Returns false when
     * another open file description holds a conflicting lock.
     */
    public static boolean tryLock(int fd) {
        return fcntl(fd, F_OFD_SETLK, F_WRLCK, "fcntl(F_OFD_SETLK)") == F_WRLCK;
    }

    /** Releases this description's lock on the whole file. */
    public static void unlock(int fd) {
        fcntl(fd, F_OFD_SETLK, F_UNLCK, "fcntl(F_OFD_SETLK, F_UNLCK)");
    }

    /**
     * Whether another open file description holds a lock that a write lock through {@code fd}
     * would conflict with (F_OFD_GETLK). A lock held through {@code fd} itself does not count.
     */
    public static boolean isLockedByOther(int fd) {
        return fcntl(fd, F_OFD_GETLK, F_WRLCK, "fcntl(F_OFD_GETLK)") != F_UNLCK;
    }

    /**
     * One fcntl lock command over the whole file. For SETLK returns {@code type} on success
     * and F_UNLCK when busy; for GETLK returns the type of the conflicting lock, or F_UNLCK.
     */
    private static int fcntl(int fd, int cmd, int type, String call) {
        MemorySegment st = CallState.current();
        try (Arena arena = Arena.ofConfined()) {
            // l_start 0, l_len 0 (to the end, however long) and l_pid 0, as OFD locks require.
            MemorySegment lock = arena.allocate(Flock.SIZE, Flock.ALIGNMENT);
            put(lock, Flock.L_TYPE, Flock.L_TYPE_SIZE, type);
            put(lock, Flock.L_WHENCE, Flock.L_WHENCE_SIZE, SEEK_SET);
            int r = (int) FCNTL.invokeExact(st, fd, cmd, lock);
            if (r < 0) {
                int errno = CallState.errno(st);
                if (cmd == F_OFD_SETLK && (errno == Errno.EAGAIN || errno == Errno.EACCES)) {
                    return F_UNLCK;
                }
                throw new SyscallException(call, errno);
            }
            return cmd == F_OFD_GETLK ? (int) get(lock, Flock.L_TYPE, Flock.L_TYPE_SIZE) : type;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** Writes an integer field whose width the generated layout gives (short on x86-64 for l_type). */
    private static void put(MemorySegment s, long offset, long size, long value) {
        switch ((int) size) {
            case 1 -> s.set(JAVA_BYTE, offset, (byte) value);
            case 2 -> s.set(JAVA_SHORT, offset, (short) value);
            case 4 -> s.set(JAVA_INT, offset, (int) value);
            case 8 -> s.set(JAVA_LONG, offset, value);
            default -> throw new IllegalStateException("unexpected field size " + size);
        }
    }

    private static long get(MemorySegment s, long offset, long size) {
        return switch ((int) size) {
            case 1 -> s.get(JAVA_BYTE, offset);
            case 2 -> s.get(JAVA_SHORT, offset);
            case 4 -> s.get(JAVA_INT, offset);
            case 8 -> s.get(JAVA_LONG, offset);
            default -> throw new IllegalStateException("unexpected field size " + size);
        };
    }
}
