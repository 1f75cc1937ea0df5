package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.IoUringGeteventsArg;
import dev.keel.ffm.gen.LinuxLayouts.IoUringMemRegionReg;
import dev.keel.ffm.gen.LinuxLayouts.IoUringRegWait;
import dev.keel.ffm.gen.LinuxLayouts.IoUringRegionDesc;
import dev.keel.ffm.gen.LinuxLayouts.KernelTimespec;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_EXT_ARG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_EXT_ARG_REG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_GETEVENTS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_MEM_REGION_REG_WAIT_ARG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_MEM_REGION_TYPE_USER;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_MEM_REGION;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REG_WAIT_TS;
import static dev.keel.ffm.gen.LinuxConstants.MAP_POPULATE;
import static dev.keel.ffm.gen.LinuxConstants.PROT_READ;
import static dev.keel.ffm.gen.LinuxConstants.PROT_WRITE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The timed wait of one {@link IoUringRing}: io_uring_enter with GETEVENTS and a timeout, the
 * timeout handed over one of two ways.
 * <ul>
 * <li>IORING_ENTER_EXT_ARG (5.11): a {@code struct io_uring_getevents_arg} pointing at a
 *     {@code struct __kernel_timespec}, both preallocated per ring, which the kernel copies in
 *     on every call;</li>
 * <li>IORING_ENTER_EXT_ARG_REG (6.13): one page registered once as the ring's wait region
 *     (IORING_REGISTER_MEM_REGION with IORING_MEM_REGION_REG_WAIT_ARG), holding a
 *     {@code struct io_uring_reg_wait} the kernel reads in place; the call passes only its
 *     offset in the region. The kernel takes the region only while the ring is still disabled
 *     (IORING_SETUP_R_DISABLED), before its first submission.</li>
 * </ul>
 * Either way nothing is allocated per wait. Loop thread only, like the ring.
 */
final class IoUringWait {
    private static final long NANOS_PER_SECOND = TimeUnit.SECONDS.toNanos(1);
    /** The offset of the one {@code struct io_uring_reg_wait} used in the region. */
    private static final long SLOT = 0;

    private final MemorySegment arg;
    /** The registered region's page, or null while waits copy their argument. */
    private MemorySegment region;

    IoUringWait(Arena arena) {
        arg = arena.allocate(IoUringGeteventsArg.SIZE + KernelTimespec.SIZE, IoUringGeteventsArg.ALIGNMENT);
        arg.set(JAVA_LONG, IoUringGeteventsArg.TS, arg.address() + IoUringGeteventsArg.SIZE);
    }

    /**
     * Registers a wait region of one page, mapped in {@code arena}, with the disabled ring
     * {@code ringFd}. Returns false when the kernel has no such registration (EINVAL: before
     * 6.13), which leaves waits as they were.
     */
    boolean register(int ringFd, Arena arena) {
        long page = Mman.pageSize();
        MemorySegment mapping = Mman.mapAnonymous(arena, page, PROT_READ | PROT_WRITE, MAP_POPULATE);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment desc = a.allocate(IoUringRegionDesc.SIZE, IoUringRegionDesc.ALIGNMENT);
            desc.set(JAVA_LONG, IoUringRegionDesc.USER_ADDR, mapping.address());
            desc.set(JAVA_LONG, IoUringRegionDesc.REGION_SIZE, page);
            desc.set(JAVA_INT, IoUringRegionDesc.FLAGS, IORING_MEM_REGION_TYPE_USER);
            MemorySegment reg = a.allocate(IoUringMemRegionReg.SIZE, IoUringMemRegionReg.ALIGNMENT);
            reg.set(JAVA_LONG, IoUringMemRegionReg.REGION_UPTR, desc.address());
            reg.set(JAVA_LONG, IoUringMemRegionReg.FLAGS, IORING_MEM_REGION_REG_WAIT_ARG);
            IoUring.register(ringFd, IORING_REGISTER_MEM_REGION, reg.address(), 1, "IORING_REGISTER_MEM_REGION");
        } catch (SyscallException e) {
            if (e.errno() == Errno.EINVAL) {
                return false;
            }
            throw e;
        }
        mapping.set(JAVA_INT, SLOT + IoUringRegWait.FLAGS, IORING_REG_WAIT_TS);
        region = mapping;
        return true;
    }

    /** Whether waits read their timeout from the registered region. */
    boolean registered() {
        return region != null;
    }

    /**
     * io_uring_enter on {@code fd} submitting {@code pending} SQEs and waiting for
     * {@code minComplete} completions or {@code timeoutNanos}; {@code flags} are the ring's own
     * (registered ring, SQ wakeup, NO_IOWAIT). Results as {@link IoUring#enter}.
     */
    int enter(int fd, int pending, int minComplete, int flags, long timeoutNanos) {
        int f = flags | IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
        if (region != null) {
            region.set(JAVA_LONG, SLOT + IoUringRegWait.TS + KernelTimespec.TV_SEC, timeoutNanos / NANOS_PER_SECOND);
            region.set(JAVA_LONG, SLOT + IoUringRegWait.TS + KernelTimespec.TV_NSEC, timeoutNanos % NANOS_PER_SECOND);
            return IoUring.enter(fd, pending, minComplete, f | IORING_ENTER_EXT_ARG_REG, SLOT, IoUringRegWait.SIZE);
        }
        long ts = IoUringGeteventsArg.SIZE;
        arg.set(JAVA_LONG, ts + KernelTimespec.TV_SEC, timeoutNanos / NANOS_PER_SECOND);
        arg.set(JAVA_LONG, ts + KernelTimespec.TV_NSEC, timeoutNanos % NANOS_PER_SECOND);
        return IoUring.enter(fd, pending, minComplete, f, arg.address(), IoUringGeteventsArg.SIZE);
    }
}
