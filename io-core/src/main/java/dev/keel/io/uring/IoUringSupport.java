package dev.keel.io.uring;

import dev.keel.io.Transport;
import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringProbe;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.ProvidedBufferRing;
import dev.keel.ffm.SyscallException;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_EXT_ARG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_FAST_POLL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NODROP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_ACCEPT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_ASYNC_CANCEL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_CLOSE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_POLL_ADD;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_RECV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SEND;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SENDMSG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SEND_ZC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SHUTDOWN;

/**
 * Whether the io_uring transport can run here, and if not why, in one line. It can when
 * io_uring_setup is permitted (no ENOSYS, no EPERM from sysctl {@code kernel.io_uring_disabled}
 * or a seccomp filter), the kernel has the features and operations the transport uses, and a
 * provided buffer ring can be registered.
 *
 * <p>Multishot receive (Linux 6.0) has no opcode or feature bit of its own; IORING_OP_SEND_ZC
 * arrived in the same release and stands for it.
 *
 * <p>Setting the system property {@code keel.io_uring.disabled} to {@code true} makes the probe
 * fail on purpose, as a seccomp filter would: {@link Transport#AUTO} then serves over epoll.
 */
public record IoUringSupport(boolean usable, String reason) {
    /** System property that forbids io_uring to keel (read on every probe, not cached). */
    static final String DISABLE_PROPERTY = Transport.IO_URING_DISABLED_PROPERTY;

    private static final int[] REQUIRED_OPS = {IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_SENDMSG,
        IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL, IORING_OP_CLOSE, IORING_OP_SHUTDOWN, IORING_OP_SEND_ZC};
    private static final String[] REQUIRED_OP_NAMES = {"ACCEPT", "RECV", "SEND", "SENDMSG", "POLL_ADD",
        "ASYNC_CANCEL", "CLOSE", "SHUTDOWN", "SEND_ZC (stands for multishot recv, 6.0)"};

    /** Probes now (the kernel part once per process, the property every time). */
    public static IoUringSupport probe() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return new IoUringSupport(false, "io_uring is disabled by -D" + DISABLE_PROPERTY + "=true");
        }
        return Kernel.SUPPORT;
    }

    private static IoUringSupport probeKernel() {
        IoUring.Support s = IoUring.support();
        if (!s.available()) {
            return new IoUringSupport(false, s.reason());
        }
        int needed = IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG | IORING_FEAT_FAST_POLL;
        if ((s.features() & needed) != needed) {
            return new IoUringSupport(false, "this kernel's io_uring lacks NODROP, EXT_ARG or FAST_POLL (features 0x"
                    + Integer.toHexString(s.features()) + "): Linux 6.0 or later is needed");
        }
        try (IoUringRing ring = IoUringRing.open(2, 0)) {
            IoUringProbe probe = IoUringProbe.of(ring);
            for (int i = 0; i < REQUIRED_OPS.length; i++) {
                if (!probe.isSupported(REQUIRED_OPS[i])) {
                    return new IoUringSupport(false, "this kernel's io_uring lacks IORING_OP_" + REQUIRED_OP_NAMES[i]
                            + ": Linux 6.0 or later is needed");
                }
            }
            ProvidedBufferRing.register(ring, 1, 0).close();
        } catch (SyscallException e) {
            return new IoUringSupport(false, "io_uring set-up failed: " + e.getMessage());
        }
        return new IoUringSupport(true, "io_uring usable (features 0x" + Integer.toHexString(s.features()) + ")");
    }

    /** Holder: asks the kernel on the first probe only. */
    private static final class Kernel {
        static final IoUringSupport SUPPORT = probeKernel();
    }
}
