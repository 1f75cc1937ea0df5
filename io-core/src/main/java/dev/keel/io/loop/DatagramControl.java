package dev.keel.io.loop;

import dev.keel.ffm.gen.LinuxLayouts.Cmsghdr;
import dev.keel.ffm.gen.LinuxLayouts.SockExtendedErr;
import dev.keel.ffm.gen.LinuxLayouts.Timespec;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.CMSG_ALIGNMENT;
import static dev.keel.ffm.gen.LinuxConstants.CMSG_DATA_OFFSET;
import static dev.keel.ffm.gen.LinuxConstants.CMSG_SPACE_INT;
import static dev.keel.ffm.gen.LinuxConstants.CMSG_SPACE_RECVERR;
import static dev.keel.ffm.gen.LinuxConstants.CMSG_SPACE_TIMESTAMPING;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_IP;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_IPV6;
import static dev.keel.ffm.gen.LinuxConstants.IPV6_RECVERR;
import static dev.keel.ffm.gen.LinuxConstants.IP_RECVERR;
import static dev.keel.ffm.gen.LinuxConstants.SCM_TIMESTAMPING;
import static dev.keel.ffm.gen.LinuxConstants.SCM_TSTAMP_SND;
import static dev.keel.ffm.gen.LinuxConstants.SO_EE_ORIGIN_ICMP;
import static dev.keel.ffm.gen.LinuxConstants.SO_EE_ORIGIN_ICMP6;
import static dev.keel.ffm.gen.LinuxConstants.SO_EE_ORIGIN_LOCAL;
import static dev.keel.ffm.gen.LinuxConstants.SO_EE_ORIGIN_TIMESTAMPING;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SOL_UDP;
import static dev.keel.ffm.gen.LinuxConstants.UDP_GRO;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The control data a datagram receive asks for: room for a UDP_GRO segment size and an
 * SO_TIMESTAMPING software receive timestamp per datagram ({@link #SPACE} bytes), and for an
 * extended error or transmit timestamp per error-queue entry ({@link #ERROR_SPACE}), read
 * back here by walking the control messages the kernel wrote. Allocation-free.
 */
public final class DatagramControl {
    /** Control bytes reserved per received datagram: CMSG_SPACE(int) + CMSG_SPACE(scm_timestamping). */
    public static final int SPACE = CMSG_SPACE_INT + CMSG_SPACE_TIMESTAMPING;
    /**
     * Control bytes reserved per error-queue entry: CMSG_SPACE of the extended error (with the
     * offender's address) + CMSG_SPACE(scm_timestamping) of a transmit timestamp.
     */
    public static final int ERROR_SPACE = CMSG_SPACE_RECVERR + CMSG_SPACE_TIMESTAMPING;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private DatagramControl() {
    }

    /**
     * The segment size of a datagram the kernel coalesced (UDP_GRO), read from the
     * {@code length} control bytes at {@code offset} of {@code m}; 0 when there is none.
     */
    public static int groSegmentSize(MemorySegment m, long offset, long length) {
        long data = find(m, offset, length, SOL_UDP, UDP_GRO, Integer.BYTES);
        return data < 0 ? 0 : m.get(JAVA_INT, data);
    }

    /**
     * The software receive timestamp (SO_TIMESTAMPING, CLOCK_REALTIME) in nanoseconds since the
     * epoch, from the first timespec of {@code struct scm_timestamping}; 0 when there is none.
     */
    public static long softwareTimestamp(MemorySegment m, long offset, long length) {
        long data = find(m, offset, length, SOL_SOCKET, SCM_TIMESTAMPING, Timespec.SIZE);
        if (data < 0) {
            return 0;
        }
        return m.get(JAVA_LONG, data + Timespec.TV_SEC) * NANOS_PER_SECOND + m.get(JAVA_LONG, data + Timespec.TV_NSEC);
    }

    /**
     * Tells {@code sink} what one error-queue entry (MSG_ERRQUEUE) of endpoint {@code id} says,
     * its control bytes at {@code offset} of {@code m}: the {@code struct sock_extended_err} of
     * its IP_RECVERR or IPV6_RECVERR message is either an error — an ICMP error or a local one
     * (EMSGSIZE) queued with {@code ee_errno}: {@link DatagramSink#failed} — or a transmit
     * timestamp (origin SO_EE_ORIGIN_TIMESTAMPING, {@code ee_info} SCM_TSTAMP_SND,
     * {@code ee_data} the datagram's number under SOF_TIMESTAMPING_OPT_ID) with the stamp in
     * the SCM_TIMESTAMPING message beside it: {@link DatagramSink#sentAt}. Anything else is
     * skipped. Returns whether the entry was one of the two.
     */
    public static boolean tellQueued(DatagramSink sink, int id, MemorySegment m, long offset, long length) {
        long data = find(m, offset, length, IPPROTO_IP, IP_RECVERR, SockExtendedErr.SIZE);
        if (data < 0) {
            data = find(m, offset, length, IPPROTO_IPV6, IPV6_RECVERR, SockExtendedErr.SIZE);
        }
        if (data < 0) {
            return false;
        }
        int origin = m.get(JAVA_BYTE, data + SockExtendedErr.EE_ORIGIN);
        if (origin == SO_EE_ORIGIN_TIMESTAMPING) {
            long at = softwareTimestamp(m, offset, length);
            if (m.get(JAVA_INT, data + SockExtendedErr.EE_INFO) != SCM_TSTAMP_SND || at == 0) {
                return false;
            }
            sink.sentAt(id, m.get(JAVA_INT, data + SockExtendedErr.EE_DATA), at);
            return true;
        }
        int errno = m.get(JAVA_INT, data + SockExtendedErr.EE_ERRNO);
        if ((origin != SO_EE_ORIGIN_ICMP && origin != SO_EE_ORIGIN_ICMP6 && origin != SO_EE_ORIGIN_LOCAL) || errno == 0) {
            return false;
        }
        sink.failed(id, errno);
        return true;
    }

    /** Offset of the data of the control message of {@code level}/{@code type} with at least {@code size} bytes, or -1. */
    private static long find(MemorySegment m, long offset, long length, int level, int type, long size) {
        long at = offset;
        long end = offset + length;
        while (end - at >= CMSG_DATA_OFFSET) {
            long len = m.get(JAVA_LONG, at + Cmsghdr.CMSG_LEN);
            if (len < CMSG_DATA_OFFSET || len > end - at) {
                return -1;
            }
            if (m.get(JAVA_INT, at + Cmsghdr.CMSG_LEVEL) == level && m.get(JAVA_INT, at + Cmsghdr.CMSG_TYPE) == type) {
                return len - CMSG_DATA_OFFSET >= size ? at + CMSG_DATA_OFFSET : -1;
            }
            at += (len + CMSG_ALIGNMENT - 1) & -CMSG_ALIGNMENT;
        }
        return -1;
    }
}
