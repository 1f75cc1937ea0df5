package dev.keel.io.uring;

import dev.keel.io.LoopOptions;
import dev.keel.ffm.IoUringRegister;
import dev.keel.ffm.IoUringRing;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_RECVSEND_BUNDLE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_COOP_TASKRUN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_DEFER_TASKRUN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_R_DISABLED;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SINGLE_ISSUER;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQPOLL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SUBMIT_ALL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_TASKRUN_FLAG;

/** Set-up of a loop's ring: the best flags this kernel takes, and the optional registrations. */
final class UringRings {
    /** Most completions a ring may have (the kernel's limit, twice IORING_MAX_ENTRIES). */
    private static final int MAX_CQ_ENTRIES = 65536;
    private static final int CQ_PER_SQ = 8;
    /** Fewest fixed-file slots asked for when RLIMIT_NOFILE refuses larger tables. */
    private static final int MIN_FILE_TABLE = 16;

    /**
     * Without SQPOLL: SINGLE_ISSUER + DEFER_TASKRUN (6.1) posts completions only while the loop
     * thread waits in io_uring_enter, with no interrupt of the thread; older kernels get
     * COOP_TASKRUN + TASKRUN_FLAG (5.19), which at least avoids the IPI. SUBMIT_ALL keeps one
     * bad SQE from holding back the rest of a submission. Each step down drops what an older
     * kernel refuses with EINVAL.
     */
    private static final int[] PLAIN = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        0,
    };
    /** With SQPOLL the kernel thread is the only submitter; DEFER_TASKRUN cannot go with it. */
    private static final int[] SQPOLL = {
        IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_SQPOLL,
    };

    /**
     * System property naming newer kernel tools the transport leaves unused, as a kernel without
     * them would (comma-separated: {@value #NO_IOWAIT}, {@value #BUNDLES}, {@value #INCREMENTAL},
     * {@value #WAIT_REGION}); the fallbacks' tests run with it. Read at each loop's set-up.
     */
    static final String WITHOUT_PROPERTY = "keel.io_uring.without";
    static final String NO_IOWAIT = "no-iowait";
    static final String BUNDLES = "bundles";
    static final String INCREMENTAL = "incremental";
    static final String WAIT_REGION = "wait-region";

    private UringRings() {
    }

    /** Whether {@link #WITHOUT_PROPERTY} leaves {@code tool} to the transport (set-up only: this allocates). */
    static boolean allowed(String tool) {
        for (String t : System.getProperty(WITHOUT_PROPERTY, "").split(",")) {
            if (t.strip().equals(tool)) {
                return false;
            }
        }
        return true;
    }

    /** Lets the multishot recv take bundles of buffers where the kernel can (IORING_RECVSEND_BUNDLE, 6.10). */
    static void receiveBundles(IoUringRing ring, UringStats stats) {
        if (allowed(BUNDLES) && ring.hasFeature(IORING_FEAT_RECVSEND_BUNDLE)) {
            stats.use(UringStats.RECEIVE_BUNDLES);
        }
    }

    /** Waits without counting as I/O wait where the kernel can (IORING_ENTER_NO_IOWAIT, 6.15). */
    static void avoidIowait(IoUringRing ring, UringStats stats) {
        if (allowed(NO_IOWAIT) && ring.waitWithoutIowait()) {
            stats.use(UringStats.NO_IOWAIT);
        }
    }

    /**
     * Opens the loop's ring; must run on the loop thread (SINGLE_ISSUER ties the ring to its
     * creator). {@code loopCpu} is the CPU the loop runs on (-1: unpinned), where an SQPOLL
     * thread asked for on the loop's CPU is pinned. The ring starts disabled
     * (IORING_SETUP_R_DISABLED) so that a wait region can be registered, which the kernel takes
     * only then ({@link #registerWaitRegion}), and is enabled before it is returned.
     */
    static IoUringRing open(LoopOptions o, int loopCpu, UringStats stats) {
        int sq = o.ringEntries();
        int sqThreadCpu = o.sqPollCpu() == LoopOptions.SQPOLL_ON_LOOP_CPU ? loopCpu : o.sqPollCpu();
        int cq = Math.min(MAX_CQ_ENTRIES, sq * CQ_PER_SQ);
        boolean sqPoll = o.sqPollIdleNanos() >= 0;
        int idleMillis = sqPoll ? (int) Math.min(Integer.MAX_VALUE, (o.sqPollIdleNanos() + 999_999) / 1_000_000) : 0;
        int disabled = allowed(WAIT_REGION) ? IORING_SETUP_R_DISABLED : 0;
        SyscallException refused = null;
        for (int flags : sqPoll ? SQPOLL : PLAIN) {
            IoUringRing ring;
            try {
                ring = IoUringRing.open(sq, flags | disabled, cq, sqPoll ? sqThreadCpu : -1, idleMillis);
            } catch (SyscallException e) {
                if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
                refused = e;
                continue;
            }
            if (disabled != 0) {
                try {
                    registerWaitRegion(ring, stats);
                    IoUringRegister.enableRings(ring);
                } catch (RuntimeException e) {
                    ring.close();
                    throw e;
                }
            }
            return ring;
        }
        throw refused;
    }

    /**
     * Registers the wait region from which blocking waits read their timeout in place
     * (IORING_ENTER_EXT_ARG_REG, 6.13) instead of the kernel copying a wait argument in on each
     * io_uring_enter; an older kernel refuses it and waits copy as before.
     */
    private static void registerWaitRegion(IoUringRing ring, UringStats stats) {
        if (IoUringRegister.registerWaitRegion(ring)) {
            stats.use(UringStats.WAIT_REGION);
        }
    }

    /** Registers the ring fd for this thread (5.18), sparing a file lookup per io_uring_enter; optional. */
    static void registerRingFd(IoUringRing ring) {
        try {
            IoUringRegister.registerRingFd(ring);
        } catch (SyscallException e) {
            // An older kernel: io_uring_enter then takes the plain fd, which works the same.
        }
    }

    /**
     * Registers the sparse fixed-file table direct accepts fill: twice the connection table,
     * because a closed connection's file slot is free at once while its table slot waits for
     * its last completion. RLIMIT_NOFILE bounds the table: refused (EMFILE), it is asked for
     * again at half the size, down to {@link #MIN_FILE_TABLE} slots. With less room than
     * connections the kernel refuses accepts with ENFILE once full, which pauses accepting like
     * EMFILE does. Returns the slots registered.
     */
    static int registerFileTable(IoUringRing ring, int maxConnections) {
        for (int slots = 2 * maxConnections; ; slots /= 2) {
            try {
                IoUringRegister.registerFilesSparse(ring, slots);
                return slots;
            } catch (SyscallException e) {
                if ((e.errno() != Errno.EMFILE && e.errno() != Errno.EINVAL) || slots / 2 < MIN_FILE_TABLE) {
                    throw e;
                }
            }
        }
    }

    /**
     * Caps the ring's io-wq workers at {@code max} of each kind: they run the splices of file
     * regions (and nothing else of the transport's), whose socket ends never wait (the sockets
     * are non-blocking), so a few suffice and a burst of downloads cannot start a thread each.
     * Optional: an older kernel keeps its own limits.
     */
    static void limitWorkers(IoUringRing ring, int max) {
        try {
            IoUringRegister.registerIowqMaxWorkers(ring, max, max);
        } catch (SyscallException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
        }
    }

    /** Registers the pool's region as fixed buffer 0, for sends with IORING_RECVSEND_FIXED_BUF. */
    static void registerPool(IoUringRing ring, MemorySegment region, Arena arena) {
        MemorySegment iovec = arena.allocate(Uio.iovecArraySize(1), 8);
        Uio.setIovec(iovec, 0, region.address(), region.byteSize());
        IoUringRegister.registerBuffers(ring, iovec, 1);
    }
}
