package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.IoUringParams;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_BUFFER_SHIFT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_F_BUFFER;
import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_F_BUF_MORE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_F_MORE;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_enter;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_register;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_setup;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The three io_uring system calls, raw, plus detection of whether this process may use
 * io_uring at all. {@link IoUringRing} builds the mapped rings on top of these.
 *
 * <pre>{@code
 * int io_uring_setup(u32 entries, struct io_uring_params *p);
 * int io_uring_enter(unsigned int fd, u32 to_submit, u32 min_complete, u32 flags,
 *                    const void *arg, size_t argsz);
 * int io_uring_register(unsigned int fd, unsigned int opcode, void *arg, unsigned int nr_args);
 * }</pre>
 *
 * <p>Loading this class makes no system call and cannot fail on a kernel without io_uring:
 * {@link #support()} asks the kernel the first time it is called, and {@link #setup} throws
 * a {@link SyscallException} (ENOSYS, EPERM) only when a ring is actually requested.
 */
public final class IoUring {
    private IoUring() {
    }

    /**
     * io_uring_setup(2): creates a ring of {@code entries} SQ entries configured and answered
     * through {@code params} (a zeroed or filled {@code struct io_uring_params}, read back by
     * the caller after the call). Returns the ring fd.
     *
     * @throws SyscallException ENOSYS without io_uring, EPERM when forbidden
     *         (sysctl {@code kernel.io_uring_disabled}, seccomp), EINVAL for bad flags or sizes
     */
    public static int setup(int entries, MemorySegment params) {
        MemorySegment st = CallState.current();
        return (int) Downcalls.check("io_uring_setup",
                Syscall.call2(st, SYS_io_uring_setup, entries, params.address()), st);
    }

    /** io_uring_enter(2) without an argument; see {@link #enter(int, int, int, int, long, long)}. */
    public static int enter(int fd, int toSubmit, int minComplete, int flags) {
        return enter(fd, toSubmit, minComplete, flags, 0L, 0L);
    }

    /**
     * io_uring_enter(2): submits up to {@code toSubmit} SQEs and, with IORING_ENTER_GETEVENTS,
     * waits for {@code minComplete} completions. {@code arg}/{@code argSize} are the address and
     * size of a sigset or, with IORING_ENTER_EXT_ARG, of a {@code struct io_uring_getevents_arg}.
     *
     * <p>Returns the number of SQEs consumed, or {@code -errno} for the outcomes a reactor loop
     * handles as values: EINTR (a signal), EAGAIN and EBUSY (the kernel is short of resources or
     * the CQ overflow list is full: reap completions, then retry) and ETIME (the EXT_ARG
     * timeout passed). Every other failure throws.
     */
    public static int enter(int fd, int toSubmit, int minComplete, int flags, long arg, long argSize) {
        MemorySegment st = CallState.current();
        long r = Syscall.call6(st, SYS_io_uring_enter, fd, toSubmit, minComplete, flags, arg, argSize);
        if (r < 0) {
            int errno = CallState.errno(st);
            if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.EBUSY || errno == Errno.ETIME) {
                return -errno;
            }
            throw new SyscallException("io_uring_enter", errno);
        }
        return (int) r;
    }

    /**
     * io_uring_register(2) with an IORING_REGISTER_* / IORING_UNREGISTER_* {@code opcode};
     * {@code arg} is the address of the opcode's argument (0 for none). Returns the call's
     * non-negative result.
     */
    public static int register(int fd, int opcode, long arg, int nrArgs) {
        return register(fd, opcode, arg, nrArgs, "opcode " + opcode);
    }

    /** Like {@link #register(int, int, long, int)}; {@code what} names the opcode in an error. */
    static int register(int fd, int opcode, long arg, int nrArgs, String what) {
        MemorySegment st = CallState.current();
        long r = Syscall.call4(st, SYS_io_uring_register, fd, opcode, arg, nrArgs);
        if (r < 0) {
            throw new SyscallException("io_uring_register", CallState.errno(st), what);
        }
        return (int) r;
    }

    // ---- completion flags -------------------------------------------------------------------

    /** Whether a completion's flags carry a provided buffer id (IORING_CQE_F_BUFFER). */
    public static boolean hasBuffer(int cqeFlags) {
        return (cqeFlags & IORING_CQE_F_BUFFER) != 0;
    }

    /** The provided buffer id in a completion's flags; meaningful only when {@link #hasBuffer}. */
    public static int bufferId(int cqeFlags) {
        return cqeFlags >>> IORING_CQE_BUFFER_SHIFT;
    }

    /**
     * Whether the provided buffer a completion names stays with the kernel, to be filled further
     * (IORING_CQE_F_BUF_MORE: a ring registered with IOU_PBUF_RING_INC, 6.12, consumed it only
     * in part); the completion's bytes are the application's all the same.
     */
    public static boolean bufferMore(int cqeFlags) {
        return (cqeFlags & IORING_CQE_F_BUF_MORE) != 0;
    }

    /** Whether a multishot request stays armed after this completion (IORING_CQE_F_MORE). */
    public static boolean hasMore(int cqeFlags) {
        return (cqeFlags & IORING_CQE_F_MORE) != 0;
    }

    // ---- availability -----------------------------------------------------------------------

    /**
     * Whether this process may use io_uring, and if not why.
     *
     * @param available true when a ring could be set up
     * @param errno     0 when available, else io_uring_setup's errno
     * @param features  the IORING_FEAT_* bits the kernel reported, 0 when unavailable
     * @param reason    one line for a log: what was found, or why io_uring cannot be used
     */
    public record Support(boolean available, int errno, int features, String reason) {
    }

    /**
     * Cached {@link #check()}: the first call sets up and closes a one-entry ring, later calls
     * return the same answer. Never throws for a missing or forbidden io_uring.
     */
    public static Support support() {
        return Cached.SUPPORT;
    }

    /** {@code support().available()}. */
    public static boolean isSupported() {
        return support().available();
    }

    /** Asks the kernel now: sets up a one-entry ring and closes it again. */
    public static Support check() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(IoUringParams.SIZE, IoUringParams.ALIGNMENT);
            MemorySegment st = CallState.current();
            long fd = Syscall.call2(st, SYS_io_uring_setup, 1, params.address());
            if (fd < 0) {
                int errno = CallState.errno(st);
                return new Support(false, errno, 0, unavailableReason(errno));
            }
            Files.close((int) fd);
            int features = params.get(JAVA_INT, IoUringParams.FEATURES);
            return new Support(true, 0, features,
                    "io_uring available (features 0x" + Integer.toHexString(features) + ")");
        }
    }

    private static String unavailableReason(int errno) {
        String cause;
        if (errno == Errno.ENOSYS) {
            cause = "this kernel has no io_uring";
        } else if (errno == Errno.EPERM || errno == Errno.EACCES) {
            cause = "io_uring is forbidden here (sysctl kernel.io_uring_disabled or a seccomp filter)";
        } else if (errno == Errno.ENOMEM) {
            cause = "the kernel could not allocate a ring (RLIMIT_MEMLOCK?)";
        } else {
            cause = "io_uring_setup failed";
        }
        return cause + ": io_uring_setup: " + Errno.name(errno) + " (" + Errno.message(errno) + ")";
    }

    /** Holder: initialised, and so asks the kernel, only on the first {@link #support()} call. */
    private static final class Cached {
        static final Support SUPPORT = check();
    }
}
