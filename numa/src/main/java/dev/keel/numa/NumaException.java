package dev.keel.numa;

import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;

/**
 * A NUMA request keel refused or the kernel failed, with the reason in words. keel never
 * falls back to memory placed somewhere else: the caller sees this instead.
 */
public final class NumaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the request failed. */
    public enum Reason {
        /** The node is not online on this machine. */
        NO_SUCH_NODE,
        /** The node exists but has no memory of its own. */
        MEMORYLESS_NODE,
        /** The node exists but this process may not allocate on it (cpuset or policy). */
        NODE_NOT_ALLOWED,
        /** A seccomp filter (a container's profile) makes the NUMA system calls fail with EPERM. */
        SYSCALLS_BLOCKED,
        /** The kernel has no NUMA system calls (ENOSYS: built without CONFIG_NUMA). */
        NO_KERNEL_SUPPORT,
        /** Any other failure of a NUMA system call. */
        SYSCALL_FAILED,
        /** Pages did not land where the policy said they would. */
        MISPLACED
    }

    /** What keel says when the NUMA system calls come back EPERM. */
    public static final String BLOCKED_MESSAGE = "the container blocks the NUMA syscalls";

    /** Why the NUMA operation failed. */
    private final Reason reason;

    /** A failure for {@code reason}, explained by {@code message}. */
    public NumaException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    /**
     * A failure for {@code reason}, explained by {@code message}, caused by {@code cause} (usually
     * a {@link dev.keel.ffm.SyscallException}).
     */
    public NumaException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /**
     * Why the NUMA operation failed, for a caller that decides by kind (for example falls back when
     * the container blocks the calls).
     */
    public Reason reason() {
        return reason;
    }

    /**
     * Translates a failed NUMA system call made while doing {@code what}: EPERM becomes
     * {@link Reason#SYSCALLS_BLOCKED}, ENOSYS {@link Reason#NO_KERNEL_SUPPORT}.
     */
    static NumaException from(SyscallException e, String what) {
        if (e.errno() == Errno.EPERM) {
            return new NumaException(Reason.SYSCALLS_BLOCKED,
                    BLOCKED_MESSAGE + " (" + e.getMessage() + "); cannot " + what, e);
        }
        if (e.errno() == Errno.ENOSYS) {
            return new NumaException(Reason.NO_KERNEL_SUPPORT,
                    "this kernel has no NUMA system calls (" + e.getMessage() + "); cannot " + what, e);
        }
        return new NumaException(Reason.SYSCALL_FAILED, "cannot " + what + ": " + e.getMessage(), e);
    }
}
