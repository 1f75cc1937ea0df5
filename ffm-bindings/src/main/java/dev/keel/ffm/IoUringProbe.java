package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts;
import dev.keel.ffm.gen.LinuxLayouts.IoUringProbeOp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_PROBE;
import static dev.keel.ffm.gen.LinuxConstants.IO_URING_OP_SUPPORTED;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Which IORING_OP_* opcodes the running kernel supports (IORING_REGISTER_PROBE, 5.6). The
 * kernel, not the headers keel was built against, decides: a newer kernel knows opcodes past
 * the headers' IORING_OP_LAST, an older one lacks some below it.
 *
 * <pre>{@code
 * struct io_uring_probe_op { __u8 op; __u8 resv; __u16 flags; __u32 resv2; };   // flags: IO_URING_OP_SUPPORTED
 * struct io_uring_probe {
 *   __u8 last_op;        // last opcode the kernel knows
 *   __u8 ops_len;        // entries of ops[] it filled
 *   __u16 resv; __u32 resv2[3];
 *   struct io_uring_probe_op ops[];
 * };
 * }</pre>
 */
public final class IoUringProbe {
    /** ops[] room for every opcode a {@code __u8} can name: the kernel fills at most this many. */
    private static final int MAX_OPS = 1 << (Byte.SIZE * LinuxLayouts.IoUringProbe.LAST_OP_SIZE);

    private final int lastOp;
    private final boolean[] supported;

    private IoUringProbe(int lastOp, boolean[] supported) {
        this.lastOp = lastOp;
        this.supported = supported;
    }

    /** Probes through {@code ring}. */
    public static IoUringProbe of(IoUringRing ring) {
        return of(ring.fd());
    }

    /** Probes through the ring fd {@code ringFd}. */
    public static IoUringProbe of(int ringFd) {
        try (Arena a = Arena.ofConfined()) {
            // Zeroed, as the kernel requires of everything but its own answer.
            MemorySegment probe = a.allocate(LinuxLayouts.IoUringProbe.SIZE + MAX_OPS * IoUringProbeOp.SIZE,
                    LinuxLayouts.IoUringProbe.ALIGNMENT);
            IoUring.register(ringFd, IORING_REGISTER_PROBE, probe.address(), MAX_OPS, "IORING_REGISTER_PROBE");
            int last = Byte.toUnsignedInt(probe.get(JAVA_BYTE, LinuxLayouts.IoUringProbe.LAST_OP));
            int len = Byte.toUnsignedInt(probe.get(JAVA_BYTE, LinuxLayouts.IoUringProbe.OPS_LEN));
            boolean[] ops = new boolean[len];
            for (int i = 0; i < len; i++) {
                long op = LinuxLayouts.IoUringProbe.OPS + i * IoUringProbeOp.SIZE;
                int code = Byte.toUnsignedInt(probe.get(JAVA_BYTE, op + IoUringProbeOp.OP));
                short flags = probe.get(JAVA_SHORT, op + IoUringProbeOp.FLAGS);
                if (code < len) {
                    ops[code] = (flags & IO_URING_OP_SUPPORTED) != 0;
                }
            }
            return new IoUringProbe(last, ops);
        }
    }

    /** Probes the kernel with a throwaway one-entry ring. */
    public static IoUringProbe ofKernel() {
        try (IoUringRing ring = IoUringRing.open(1, 0)) {
            return of(ring);
        }
    }

    /** The highest opcode the kernel knows. */
    public int lastOp() {
        return lastOp;
    }

    /** Whether the kernel supports IORING_OP_* {@code opcode}; false for any opcode it does not know. */
    public boolean isSupported(int opcode) {
        return opcode >= 0 && opcode < supported.length && supported[opcode];
    }
}
