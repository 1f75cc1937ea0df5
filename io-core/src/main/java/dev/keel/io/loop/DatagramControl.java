package dev.keel.io.loop;

import dev.keel.ffm.gen.LinuxLayouts.Cmsghdr;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.CMSG_DATA_OFFSET;
import static dev.keel.ffm.gen.LinuxConstants.CMSG_SPACE_INT;
import static dev.keel.ffm.gen.LinuxConstants.SOL_UDP;
import static dev.keel.ffm.gen.LinuxConstants.UDP_GRO;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The control data a datagram receive asks for: room for one int-sized control message per
 * datagram ({@link #SPACE} bytes), read back here — the UDP_GRO segment size of a coalesced
 * datagram. Allocation-free.
 */
public final class DatagramControl {
    /** Control bytes reserved per received datagram: CMSG_SPACE(sizeof(int)). */
    public static final int SPACE = CMSG_SPACE_INT;

    private DatagramControl() {
    }

    /**
     * The segment size of a datagram the kernel coalesced (UDP_GRO), read from the
     * {@code length} control bytes at {@code offset} of {@code m}; 0 when there is none.
     */
    public static int groSegmentSize(MemorySegment m, long offset, long length) {
        if (length < CMSG_DATA_OFFSET + Integer.BYTES) {
            return 0;
        }
        long cmsgLen = m.get(JAVA_LONG, offset + Cmsghdr.CMSG_LEN);
        if (cmsgLen < CMSG_DATA_OFFSET + Integer.BYTES || m.get(JAVA_INT, offset + Cmsghdr.CMSG_LEVEL) != SOL_UDP
                || m.get(JAVA_INT, offset + Cmsghdr.CMSG_TYPE) != UDP_GRO) {
            return 0;
        }
        return m.get(JAVA_INT, offset + CMSG_DATA_OFFSET);
    }
}
