package dev.keel.ffm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_NOP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_READ;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_READV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_RECV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_WRITE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_WRITEV;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IoUringProbeTest {
    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @Test
    void shouldReportTheBasicOpsSupported() {
        IoUringProbe probe = IoUringProbe.ofKernel();
        for (int op : new int[] {IORING_OP_NOP, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_READV,
                IORING_OP_WRITEV, IORING_OP_RECV}) {
            assertTrue(probe.isSupported(op), "opcode " + op);
        }
        assertTrue(probe.lastOp() >= IORING_OP_RECV, "last_op " + probe.lastOp());
    }

    @Test
    void shouldReportOpsPastTheKernelsLastOpUnsupported() {
        try (IoUringRing ring = IoUringRing.open(2, 0)) {
            IoUringProbe probe = IoUringProbe.of(ring);
            // The kernel's last_op, not the headers' IORING_OP_LAST: the kernel may be newer.
            assertFalse(probe.isSupported(probe.lastOp() + 1));
            assertFalse(probe.isSupported(255));
            assertFalse(probe.isSupported(-1));
            assertFalse(probe.isSupported(Integer.MAX_VALUE));
        }
    }
}
