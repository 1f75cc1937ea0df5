package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxConstants;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * splice(2), tee(2), pipe2(2) and the pipe-size fcntls: moving bytes between descriptors
 * through a pipe's pages without copying them to user space (file to socket, socket to
 * socket for a proxy).
 *
 * <pre>{@code
 * ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len, unsigned int flags);
 * ssize_t tee(int fd_in, int fd_out, size_t len, unsigned int flags);
 * int pipe2(int pipefd[2], int flags);
 * int fcntl(int fd, int cmd, ...);  // F_SETPIPE_SZ (int), F_GETPIPE_SZ
 * }</pre>
 *
 * <p>One end of every splice must be a pipe; offsets ({@code loff_t}, 8 bytes in a caller's
 * segment) apply only to the non-pipe end and are advanced by the kernel, or are
 * {@link MemorySegment#NULL} to use the descriptor's own position.
 */
public final class Splice {
    // splice and tee sleep on a full or empty pipe or socket unless told not to: not critical.
    private static final MethodHandle SPLICE = Downcalls.errnoHandle("splice",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), false);
    private static final MethodHandle TEE = Downcalls.errnoHandle("tee",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT), false);
    /*
     * pipe2 never blocks, so it is linked critical with heap access: the kernel writes the two
     * descriptors straight into the caller's int[] and no native buffer is needed.
     */
    private static final MethodHandle PIPE2 = Downcalls.LINKER.downcallHandle(
            Downcalls.LIBC.find("pipe2").orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol pipe2")),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.captureCallState("errno"), Linker.Option.critical(true));
    private static final MethodHandle FCNTL = Downcalls.variadicHandle("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);

    private Splice() {
    }

    /**
     * Moves up to {@code len} bytes from {@code fdIn} to {@code fdOut}, one of which must be a
     * pipe. {@code flags}: SPLICE_F_MOVE, SPLICE_F_NONBLOCK (do not wait on the pipe; a socket
     * end waits unless it is itself non-blocking), SPLICE_F_MORE (more data follows: lets TCP
     * hold back a partial segment).
     *
     * @param offIn  {@code loff_t} to read from and advance, or NULL (must be NULL for a pipe)
     * @param offOut {@code loff_t} to write at and advance, or NULL (must be NULL for a pipe)
     * @return bytes moved; 0 when {@code fdIn} is at end of file or is a pipe with no writer;
     *         {@code -EAGAIN} when a non-blocking side is empty or full; {@code -EINTR}. Any
     *         other failure (EINVAL when neither end is a pipe, EBADF, ...) throws
     */
    public static long splice(int fdIn, MemorySegment offIn, int fdOut, MemorySegment offOut, long len, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("splice",
                    (long) SPLICE.invokeExact(st, fdIn, offIn, fdOut, offOut, len, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Duplicates up to {@code len} bytes from the pipe {@code fdIn} into the pipe {@code fdOut}
     * without consuming them from {@code fdIn}.
     *
     * @return bytes duplicated, 0 when {@code fdIn} has no writer left, {@code -EAGAIN} with
     *         SPLICE_F_NONBLOCK when there is nothing to copy or no room, {@code -EINTR}
     */
    public static long tee(int fdIn, int fdOut, long len, int flags) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.checkRetryable("tee", (long) TEE.invokeExact(st, fdIn, fdOut, len, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Creates a pipe with {@code flags} (O_CLOEXEC, O_NONBLOCK, O_DIRECT) and stores its read
     * end in {@code fds[0]} and its write end in {@code fds[1]}.
     *
     * @throws IllegalArgumentException if {@code fds} has fewer than two elements (the kernel
     *         would write past the array)
     */
    public static void pipe2(int[] fds, int flags) {
        if (fds.length < 2) {
            throw new IllegalArgumentException("pipe2 needs an int[2], got int[" + fds.length + "]");
        }
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("pipe2", (int) PIPE2.invokeExact(st, MemorySegment.ofArray(fds), flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * Sets the capacity of the pipe behind {@code fd} to at least {@code bytes} (the kernel
     * rounds up to a power-of-two number of pages) and returns the capacity it chose. Above
     * /proc/sys/fs/pipe-max-size an unprivileged caller gets EPERM; a non-pipe gives EBADF.
     */
    public static int setPipeSize(int fd, int bytes) {
        return fcntl("fcntl F_SETPIPE_SZ", fd, LinuxConstants.F_SETPIPE_SZ, bytes);
    }

    /** The capacity in bytes of the pipe behind {@code fd}. */
    public static int pipeSize(int fd) {
        return fcntl("fcntl F_GETPIPE_SZ", fd, LinuxConstants.F_GETPIPE_SZ, 0);
    }

    private static int fcntl(String call, int fd, int cmd, int arg) {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check(call, (int) FCNTL.invokeExact(st, fd, cmd, arg), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
