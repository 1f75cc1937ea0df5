package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.IoUringBufReg;
import dev.keel.ffm.gen.LinuxLayouts.IoUringRsrcRegister;
import dev.keel.ffm.gen.LinuxLayouts.IoUringRsrcUpdate;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_REGISTERED_RING;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_BUFFERS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_ENABLE_RINGS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_EVENTFD;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_EVENTFD_ASYNC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_FILES2;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_FILES_UPDATE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_PBUF_RING;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_RING_FDS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_RSRC_REGISTER_SPARSE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_UNREGISTER_BUFFERS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_REGISTER_IOWQ_MAX_WORKERS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_UNREGISTER_EVENTFD;
import static dev.keel.ffm.gen.LinuxConstants.IORING_UNREGISTER_FILES;
import static dev.keel.ffm.gen.LinuxConstants.IORING_UNREGISTER_PBUF_RING;
import static dev.keel.ffm.gen.LinuxConstants.IORING_UNREGISTER_RING_FDS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * io_uring_register(2) resources of an {@link IoUringRing}: fixed files, registered buffers,
 * provided buffer rings, an eventfd for completion notification, and the ring fd itself.
 * These run at set-up time, not per message; the few bytes of argument each one needs come
 * from a short-lived arena.
 */
public final class IoUringRegister {
    /** io_uring_rsrc_update.offset asking the kernel to pick a free registered-ring slot (kernel: -1U). */
    private static final int ANY_SLOT = -1;

    private IoUringRegister() {
    }

    /**
     * Registers a table of {@code count} empty fixed-file slots (IORING_REGISTER_FILES2 with
     * IORING_RSRC_REGISTER_SPARSE, 5.19), to be filled by direct accept/open or {@link #updateFiles}.
     */
    public static void registerFilesSparse(IoUringRing ring, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringRsrcRegister.SIZE, IoUringRsrcRegister.ALIGNMENT);
            reg.set(JAVA_INT, IoUringRsrcRegister.NR, count);
            reg.set(JAVA_INT, IoUringRsrcRegister.FLAGS, IORING_RSRC_REGISTER_SPARSE);
            IoUring.register(ring.fd(), IORING_REGISTER_FILES2, reg.address(), (int) IoUringRsrcRegister.SIZE,
                    "IORING_REGISTER_FILES2 (sparse)");
        }
    }

    /**
     * Puts {@code count} fds from the int array {@code fds} into fixed slots starting at
     * {@code offset}; -1 empties a slot. Returns how many slots were updated.
     */
    public static int updateFiles(IoUringRing ring, int offset, MemorySegment fds, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment upd = a.allocate(IoUringRsrcUpdate.SIZE, IoUringRsrcUpdate.ALIGNMENT);
            upd.set(JAVA_INT, IoUringRsrcUpdate.OFFSET, offset);
            upd.set(JAVA_LONG, IoUringRsrcUpdate.DATA, fds.address());
            return IoUring.register(ring.fd(), IORING_REGISTER_FILES_UPDATE, upd.address(), count,
                    "IORING_REGISTER_FILES_UPDATE");
        }
    }

    /** Drops the fixed-file table (closing the kernel's references to its files). */
    public static void unregisterFiles(IoUringRing ring) {
        IoUring.register(ring.fd(), IORING_UNREGISTER_FILES, 0L, 0, "IORING_UNREGISTER_FILES");
    }

    /**
     * Registers {@code count} buffers described by the iovec array {@code iovecs} for
     * READ_FIXED/WRITE_FIXED and IORING_RECVSEND_FIXED_BUF; the pages are pinned until
     * {@link #unregisterBuffers}.
     */
    public static void registerBuffers(IoUringRing ring, MemorySegment iovecs, int count) {
        IoUring.register(ring.fd(), IORING_REGISTER_BUFFERS, iovecs.address(), count, "IORING_REGISTER_BUFFERS");
    }

    /** Unregisters the buffers of {@link #registerBuffers}. */
    public static void unregisterBuffers(IoUringRing ring) {
        IoUring.register(ring.fd(), IORING_UNREGISTER_BUFFERS, 0L, 0, "IORING_UNREGISTER_BUFFERS");
    }

    /**
     * Makes the kernel signal eventfd {@code eventFd} on each posted completion; with
     * {@code asyncOnly} only for completions that did not finish inline (EVENTFD_ASYNC).
     */
    public static void registerEventFd(IoUringRing ring, int eventFd, boolean asyncOnly) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fd = a.allocate(JAVA_INT);
            fd.set(JAVA_INT, 0, eventFd);
            int op = asyncOnly ? IORING_REGISTER_EVENTFD_ASYNC : IORING_REGISTER_EVENTFD;
            IoUring.register(ring.fd(), op, fd.address(), 1, asyncOnly ? "IORING_REGISTER_EVENTFD_ASYNC"
                    : "IORING_REGISTER_EVENTFD");
        }
    }

    /**
     * Caps the ring's io-wq workers (IORING_REGISTER_IOWQ_MAX_WORKERS, 5.15): at most
     * {@code bounded} for work on regular files and block devices, {@code unbounded} for the
     * rest (sockets, pipes); 0 leaves a cap as it is.
     */
    public static void registerIowqMaxWorkers(IoUringRing ring, int bounded, int unbounded) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment counts = a.allocate(JAVA_INT, 2);
            counts.setAtIndex(JAVA_INT, 0, bounded);
            counts.setAtIndex(JAVA_INT, 1, unbounded);
            IoUring.register(ring.fd(), IORING_REGISTER_IOWQ_MAX_WORKERS, counts.address(), 2,
                    "IORING_REGISTER_IOWQ_MAX_WORKERS");
        }
    }

    /** Stops eventfd notification. */
    public static void unregisterEventFd(IoUringRing ring) {
        IoUring.register(ring.fd(), IORING_UNREGISTER_EVENTFD, 0L, 0, "IORING_UNREGISTER_EVENTFD");
    }

    /**
     * Registers the ring fd in this thread's table (5.18) so that io_uring_enter skips the fd
     * lookup: from now on {@link IoUringRing#submit} passes the index with
     * IORING_ENTER_REGISTERED_RING. The index is valid on this thread only, so the ring must
     * then be driven from this thread. Returns the index.
     */
    public static int registerRingFd(IoUringRing ring) {
        if (ring.enterFlags != 0) {
            throw new IllegalStateException("ring fd already registered at index " + ring.enterFd);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment upd = a.allocate(IoUringRsrcUpdate.SIZE, IoUringRsrcUpdate.ALIGNMENT);
            upd.set(JAVA_INT, IoUringRsrcUpdate.OFFSET, ANY_SLOT);
            upd.set(JAVA_LONG, IoUringRsrcUpdate.DATA, ring.fd());
            IoUring.register(ring.fd(), IORING_REGISTER_RING_FDS, upd.address(), 1, "IORING_REGISTER_RING_FDS");
            int index = upd.get(JAVA_INT, IoUringRsrcUpdate.OFFSET);
            ring.enterFd = index;
            ring.enterFlags = IORING_ENTER_REGISTERED_RING;
            ring.ringFdOwner = Thread.currentThread();
            return index;
        }
    }

    /** Unregisters the ring fd registered by this thread; a no-op when none is. */
    public static void unregisterRingFd(IoUringRing ring) {
        if (ring.enterFlags == 0) {
            return;
        }
        if (ring.ringFdOwner != Thread.currentThread()) {
            throw new IllegalStateException("the ring fd was registered by " + ring.ringFdOwner
                    + "; registered ring fds are per thread");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment upd = a.allocate(IoUringRsrcUpdate.SIZE, IoUringRsrcUpdate.ALIGNMENT);
            upd.set(JAVA_INT, IoUringRsrcUpdate.OFFSET, ring.enterFd);
            IoUring.register(ring.fd(), IORING_UNREGISTER_RING_FDS, upd.address(), 1, "IORING_UNREGISTER_RING_FDS");
        } finally {
            ring.enterFd = ring.fd();
            ring.enterFlags = 0;
            ring.ringFdOwner = null;
        }
    }

    /**
     * Registers a wait region (IORING_REGISTER_MEM_REGION with IORING_MEM_REGION_REG_WAIT_ARG,
     * Linux 6.13) from which {@link IoUringRing#submitAndWait(int, long)} then reads its timeout
     * in place (IORING_ENTER_EXT_ARG_REG), instead of the kernel copying a wait argument in on
     * every call. Only while the ring is disabled: opened with IORING_SETUP_R_DISABLED and not
     * yet {@link #enableRings enabled}. Returns false when the kernel has no wait regions (EINVAL).
     *
     * @throws IllegalStateException when the ring is not disabled
     */
    public static boolean registerWaitRegion(IoUringRing ring) {
        if (!ring.disabled) {
            throw new IllegalStateException("a wait region is registered only while the ring is disabled"
                    + " (IORING_SETUP_R_DISABLED, before enableRings)");
        }
        return ring.wait.register(ring.fd(), ring.arena);
    }

    /** Enables a ring opened with IORING_SETUP_R_DISABLED (IORING_REGISTER_ENABLE_RINGS, 5.10): then it takes submissions. */
    public static void enableRings(IoUringRing ring) {
        IoUring.register(ring.fd(), IORING_REGISTER_ENABLE_RINGS, 0L, 0, "IORING_REGISTER_ENABLE_RINGS");
        ring.disabled = false;
    }

    /**
     * Registers the provided-buffer ring at {@code ringAddr} (page-aligned, {@code entries}
     * {@code struct io_uring_buf}s, a power of two) as buffer group {@code bgid} (5.19).
     * {@link ProvidedBufferRing} wraps this with the memory and the tail.
     */
    public static void registerPbufRing(IoUringRing ring, long ringAddr, int entries, int bgid) {
        registerPbufRing(ring, ringAddr, entries, bgid, 0);
    }

    /**
     * {@link #registerPbufRing(IoUringRing, long, int, int)} with IOU_PBUF_RING_* {@code flags}
     * (IOU_PBUF_RING_INC, 6.12: buffers consumed incrementally); a kernel without a flag
     * refuses it with EINVAL.
     */
    public static void registerPbufRing(IoUringRing ring, long ringAddr, int entries, int bgid, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringBufReg.SIZE, IoUringBufReg.ALIGNMENT);
            reg.set(JAVA_LONG, IoUringBufReg.RING_ADDR, ringAddr);
            reg.set(JAVA_INT, IoUringBufReg.RING_ENTRIES, entries);
            reg.set(JAVA_SHORT, IoUringBufReg.BGID, (short) bgid);
            reg.set(JAVA_SHORT, IoUringBufReg.FLAGS, (short) flags);
            IoUring.register(ring.fd(), IORING_REGISTER_PBUF_RING, reg.address(), 1, "IORING_REGISTER_PBUF_RING");
        }
    }

    /** Unregisters buffer group {@code bgid}; the kernel stops picking its buffers. */
    public static void unregisterPbufRing(IoUringRing ring, int bgid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(IoUringBufReg.SIZE, IoUringBufReg.ALIGNMENT);
            reg.set(JAVA_SHORT, IoUringBufReg.BGID, (short) bgid);
            IoUring.register(ring.fd(), IORING_UNREGISTER_PBUF_RING, reg.address(), 1, "IORING_UNREGISTER_PBUF_RING");
        }
    }
}
