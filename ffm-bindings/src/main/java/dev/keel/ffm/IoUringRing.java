package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.IoCqringOffsets;
import dev.keel.ffm.gen.LinuxLayouts.IoSqringOffsets;
import dev.keel.ffm.gen.LinuxLayouts.IoUringCqe;
import dev.keel.ffm.gen.LinuxLayouts.IoUringParams;
import dev.keel.ffm.gen.LinuxLayouts.IoUringSqe;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_GETEVENTS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_NO_IOWAIT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_SQ_WAIT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ENTER_SQ_WAKEUP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_EXT_ARG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NO_IOWAIT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_SINGLE_MMAP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OFF_CQ_RING;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OFF_SQES;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OFF_SQ_RING;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_CQE32;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_CQSIZE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_IOPOLL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_R_DISABLED;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQE128;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQPOLL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQ_AFF;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_CQ_OVERFLOW;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_NEED_WAKEUP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_TASKRUN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One io_uring instance with its SQ ring, CQ ring and SQE array mapped into this process: the
 * submission and completion mechanics of liburing's {@code io_uring_queue_init},
 * {@code io_uring_get_sqe}, {@code io_uring_submit} and {@code io_uring_for_each_cqe}.
 *
 * <pre>
 *  nextSqe() -> index            prep().read(index, ...)          submit()
 *  SQE array [ 0 | 1 | ... ]  &lt;- encoded in place         tail (release) -> kernel
 *  CQ ring   [ cqe | cqe ... ] -> forEachCompletion(h): tail (acquire), h(user_data, res, flags),
 *                                 head (release) in finally
 * </pre>
 *
 * <p>Not thread-safe: one thread (an event loop) submits and reaps. The ring may be opened on
 * one thread and used on another; a registered ring fd ({@link IoUringRegister#registerRingFd})
 * is per thread and ties {@link #submit} to the registering thread.
 *
 * <p>Closing unmaps the rings and closes the fd. Segments over the mappings belong to a shared
 * arena closed first, so a closed ring fails with IllegalStateException instead of touching
 * unmapped memory.
 */
public final class IoUringRing implements AutoCloseable {
    /**
     * Receives one completion as primitives, so reaping allocates nothing. Called on the thread
     * that calls {@link #forEachCompletion}; it may prepare and submit new SQEs but must not
     * reap this ring again (not re-entrant).
     */
    @FunctionalInterface
    public interface CompletionHandler {
        /**
         * Called once per reaped completion on the reaping thread, with the CQE's {@code
         * user_data}, {@code res} (a result or {@code -errno}) and {@code flags}; must not block
         * (the ring's head moves on only after the batch).
         */
        void onCompletion(long userData, int res, int flags);
    }

    /*
     * The ring indices are shared with the kernel, which runs concurrently (on another CPU in
     * task work, softirq or the SQPOLL thread). liburing orders them with
     * io_uring_smp_load_acquire / io_uring_smp_store_release; these handles give Java the same:
     *  - SQ tail, setRelease: the kernel must see the SQE contents we wrote before the new tail.
     *  - SQ head, getAcquire: a slot the kernel has consumed may be rewritten only after.
     *  - CQ tail, getAcquire: the CQE contents must be read after the tail that publishes them.
     *  - CQ head, setRelease: the kernel may overwrite a CQE only after we finished reading it.
     * ValueLayout var handles take (segment, offset) coordinates; the offsets are longs.
     */
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final int ringFd;
    private final int setupFlags;
    private final int features;
    private final int sqEntries;
    private final int cqEntries;
    private final long sqeSize;
    private final long cqeSize;

    final Arena arena;
    private final Mapping sqMap;
    private final Mapping cqMap;
    private final Mapping sqesMap;
    private final MemorySegment sq;
    private final MemorySegment cq;
    private final MemorySegment sqes;
    final IoUringWait wait;
    private final IoUringPrep prep;

    private final long sqHeadOff;
    private final long sqTailOff;
    private final long sqFlagsOff;
    private final long sqDroppedOff;
    private final int sqMask;
    private final long cqHeadOff;
    private final long cqTailOff;
    private final long cqOverflowOff;
    private final long cqesOff;
    private final int cqMask;

    /** Next SQE to hand out; published to the kernel's SQ tail by {@link #flush()}. */
    private int sqeTail;
    /** The fd given to io_uring_enter: the ring fd, or its registered index. */
    int enterFd;
    /** IORING_ENTER_REGISTERED_RING once the ring fd is registered, else 0. */
    int enterFlags;
    /** Thread that registered the ring fd (registered ring fds are per task), or null. */
    Thread ringFdOwner;
    /** IORING_ENTER_* flags of every enter that waits: NO_IOWAIT once {@link #waitWithoutIowait} took. */
    int waitFlags;
    private boolean closed;
    /** Set up with IORING_SETUP_R_DISABLED and not {@link IoUringRegister#enableRings enabled} yet. */
    boolean disabled;

    private record Mapping(long address, long size) {
        void unmap() {
            Mman.munmap(MemorySegment.ofAddress(address).reinterpret(size));
        }
    }

    /** Opens a ring of {@code entries} SQ entries (rounded up to a power of two) with IORING_SETUP_* {@code flags}. */
    public static IoUringRing open(int entries, int flags) {
        return open(entries, flags, 0, -1, 0);
    }

    /**
     * Opens a ring with the optional parameters of {@code struct io_uring_params}.
     *
     * @param cqEntries          CQ size when positive (adds IORING_SETUP_CQSIZE), else the kernel's 2x entries
     * @param sqThreadCpu        CPU of the SQPOLL thread when non-negative (adds IORING_SETUP_SQ_AFF)
     * @param sqThreadIdleMillis SQPOLL thread idle time before it sleeps, 0 for the kernel default
     * @throws SyscallException  from io_uring_setup (ENOSYS, EPERM, EINVAL) or mmap
     */
    public static IoUringRing open(int entries, int flags, int cqEntries, int sqThreadCpu, int sqThreadIdleMillis) {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment p = temp.allocate(IoUringParams.SIZE, IoUringParams.ALIGNMENT);
            int f = flags;
            if (cqEntries > 0) {
                f |= IORING_SETUP_CQSIZE;
                p.set(JAVA_INT, IoUringParams.CQ_ENTRIES, cqEntries);
            }
            if (sqThreadCpu >= 0) {
                f |= IORING_SETUP_SQ_AFF;
                p.set(JAVA_INT, IoUringParams.SQ_THREAD_CPU, sqThreadCpu);
            }
            p.set(JAVA_INT, IoUringParams.SQ_THREAD_IDLE, sqThreadIdleMillis);
            p.set(JAVA_INT, IoUringParams.FLAGS, f);
            int fd = IoUring.setup(entries, p);
            try {
                return new IoUringRing(fd, p);
            } catch (RuntimeException | Error e) {
                Files.close(fd);
                throw e;
            }
        }
    }

    private IoUringRing(int fd, MemorySegment p) {
        ringFd = fd;
        enterFd = fd;
        setupFlags = p.get(JAVA_INT, IoUringParams.FLAGS);
        features = p.get(JAVA_INT, IoUringParams.FEATURES);
        sqEntries = p.get(JAVA_INT, IoUringParams.SQ_ENTRIES);
        cqEntries = p.get(JAVA_INT, IoUringParams.CQ_ENTRIES);
        // SQE128 and CQE32 double the entry size; the first 64/16 bytes keep the usual layout.
        sqeSize = (setupFlags & IORING_SETUP_SQE128) != 0 ? 2 * IoUringSqe.SIZE : IoUringSqe.SIZE;
        cqeSize = (setupFlags & IORING_SETUP_CQE32) != 0 ? 2 * IoUringCqe.SIZE : IoUringCqe.SIZE;

        long so = IoUringParams.SQ_OFF;
        long co = IoUringParams.CQ_OFF;
        long sqArrayOff = p.get(JAVA_INT, so + IoSqringOffsets.ARRAY);
        long sqRingSize = sqArrayOff + sqEntries * JAVA_INT.byteSize();
        long cqRingSize = p.get(JAVA_INT, co + IoCqringOffsets.CQES) + cqEntries * cqeSize;
        boolean single = (features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (single) {
            sqRingSize = Math.max(sqRingSize, cqRingSize);
            cqRingSize = sqRingSize;
        }

        Mapping sqm = null;
        Mapping cqm = null;
        Mapping sqesm = null;
        Arena a = Arena.ofShared();
        try {
            sqm = new Mapping(Mman.mapRing(fd, sqRingSize, IORING_OFF_SQ_RING), sqRingSize);
            // With IORING_FEAT_SINGLE_MMAP the CQ ring lives in the SQ ring's mapping.
            cqm = single ? sqm : new Mapping(Mman.mapRing(fd, cqRingSize, IORING_OFF_CQ_RING), cqRingSize);
            long sqesSize = sqEntries * sqeSize;
            sqesm = new Mapping(Mman.mapRing(fd, sqesSize, IORING_OFF_SQES), sqesSize);
        } catch (RuntimeException | Error e) {
            a.close();
            unmapAll(sqm, cqm, sqesm);
            throw e;
        }
        arena = a;
        sqMap = sqm;
        cqMap = cqm;
        sqesMap = sqesm;
        sq = MemorySegment.ofAddress(sqm.address()).reinterpret(sqm.size(), a, null);
        cq = MemorySegment.ofAddress(cqm.address()).reinterpret(cqm.size(), a, null);
        sqes = MemorySegment.ofAddress(sqesm.address()).reinterpret(sqesm.size(), a, null);
        wait = new IoUringWait(a);
        disabled = (setupFlags & IORING_SETUP_R_DISABLED) != 0;

        sqHeadOff = p.get(JAVA_INT, so + IoSqringOffsets.HEAD);
        sqTailOff = p.get(JAVA_INT, so + IoSqringOffsets.TAIL);
        sqFlagsOff = p.get(JAVA_INT, so + IoSqringOffsets.FLAGS);
        sqDroppedOff = p.get(JAVA_INT, so + IoSqringOffsets.DROPPED);
        sqMask = sq.get(JAVA_INT, p.get(JAVA_INT, so + IoSqringOffsets.RING_MASK));
        cqHeadOff = p.get(JAVA_INT, co + IoCqringOffsets.HEAD);
        cqTailOff = p.get(JAVA_INT, co + IoCqringOffsets.TAIL);
        cqOverflowOff = p.get(JAVA_INT, co + IoCqringOffsets.OVERFLOW);
        cqesOff = p.get(JAVA_INT, co + IoCqringOffsets.CQES);
        cqMask = cq.get(JAVA_INT, p.get(JAVA_INT, co + IoCqringOffsets.RING_MASK));

        // SQ array slot i always names SQE i (as liburing does), so submitting is a tail store.
        for (int i = 0; i < sqEntries; i++) {
            sq.setAtIndex(JAVA_INT, (sqArrayOff / JAVA_INT.byteSize()) + i, i);
        }
        sqeTail = (int) INT.getAcquire(sq, sqTailOff);
        prep = new IoUringPrep(sqes, sqeSize);
    }

    private static void unmapAll(Mapping sq, Mapping cq, Mapping sqes) {
        if (sqes != null) {
            sqes.unmap();
        }
        if (cq != null && cq != sq) {
            cq.unmap();
        }
        if (sq != null) {
            sq.unmap();
        }
    }

    // ---- submission ---------------------------------------------------------------------------

    /**
     * Reserves the next SQE, zeroed, and returns its index for {@link #prep()}, or {@code -1}
     * when the SQ is full (submit, then try again). Nothing reaches the kernel before
     * {@link #submit}.
     */
    public int nextSqe() {
        int head = (int) INT.getAcquire(sq, sqHeadOff);
        int tail = sqeTail;
        if (tail - head >= sqEntries) {
            return -1;
        }
        sqeTail = tail + 1;
        int index = tail & sqMask;
        long base = index * sqeSize;
        for (long o = 0; o < sqeSize; o += JAVA_LONG.byteSize()) {
            sqes.set(JAVA_LONG, base + o, 0L);
        }
        return index;
    }

    /** The SQE encoder over this ring's SQE array. */
    public IoUringPrep prep() {
        return prep;
    }

    /** Free SQ slots. */
    public int sqSpaceLeft() {
        return sqEntries - (sqeTail - (int) INT.getAcquire(sq, sqHeadOff));
    }

    /** Publishes the reserved SQEs (SQ tail, release) and returns how many the kernel has not consumed yet. */
    private int flush() {
        INT.setRelease(sq, sqTailOff, sqeTail);
        return sqeTail - (int) INT.getAcquire(sq, sqHeadOff);
    }

    /**
     * Submits the reserved SQEs without waiting. Returns the number of SQEs submitted, or
     * {@code -errno} for EINTR/EAGAIN/EBUSY (see {@link IoUring#enter}). Under SQPOLL the
     * kernel thread submits; this only wakes it when it sleeps.
     */
    public int submit() {
        return enter(flush(), 0, 0);
    }

    /**
     * Submits, and under SQPOLL waits until the kernel thread has freed at least one SQ entry
     * (IORING_ENTER_SQ_WAIT, 5.10): an SQPOLL thread consumes entries on its own time, so a
     * plain submit leaves a full SQ full. Without SQPOLL this is {@link #submit}, which
     * consumes the entries before it returns. Same results as {@link #submit}.
     */
    public int submitAndAwaitSqSpace() {
        if ((setupFlags & IORING_SETUP_SQPOLL) == 0) {
            return submit();
        }
        int pending = flush();
        return IoUring.enter(enterFd, pending, 0, enterFlags | IORING_ENTER_SQ_WAIT | sqWakeupFlag());
    }

    /** Submits and waits until at least {@code minComplete} completions are ready. */
    public int submitAndWait(int minComplete) {
        return enter(flush(), minComplete, IORING_ENTER_GETEVENTS | waitFlags);
    }

    /**
     * From now on the waits of {@link #submitAndWait} pass IORING_ENTER_NO_IOWAIT (Linux 6.15):
     * the kernel otherwise counts a task waiting in io_uring_enter with requests in flight as
     * in I/O wait, so an idle network loop with a receive armed per connection shows as iowait
     * in top and /proc/stat. Returns whether the kernel has it (IORING_FEAT_NO_IOWAIT); without
     * it waits stay as they were.
     */
    public boolean waitWithoutIowait() {
        if ((features & IORING_FEAT_NO_IOWAIT) == 0) {
            return false;
        }
        waitFlags |= IORING_ENTER_NO_IOWAIT;
        return true;
    }

    /** Whether waits pass IORING_ENTER_NO_IOWAIT ({@link #waitWithoutIowait}). */
    public boolean waitsWithoutIowait() {
        return (waitFlags & IORING_ENTER_NO_IOWAIT) != 0;
    }

    /**
     * Submits and waits until {@code minComplete} completions are ready or {@code timeoutNanos}
     * passed ({@code -ETIME}); needs IORING_FEAT_EXT_ARG (5.11). The timeout goes through the
     * registered wait region when there is one ({@link #waitsThroughRegion}), else through a
     * wait argument preallocated per ring: this allocates nothing.
     */
    public int submitAndWait(int minComplete, long timeoutNanos) {
        if ((features & IORING_FEAT_EXT_ARG) == 0) {
            throw new UnsupportedOperationException("this kernel's io_uring lacks IORING_FEAT_EXT_ARG (timed waits)");
        }
        int pending = flush();
        return wait.enter(enterFd, pending, minComplete, enterFlags | waitFlags | sqWakeupFlag(), timeoutNanos);
    }

    /** Whether timed waits read their timeout from a registered wait region ({@link IoUringRegister#registerWaitRegion}). */
    public boolean waitsThroughRegion() {
        return wait.registered();
    }

    /**
     * Enters the kernel only to run pending task work and flush overflowed completions into the
     * CQ; see {@link #cqNeedsFlush()}.
     */
    public int flushCompletions() {
        return IoUring.enter(enterFd, 0, 0, enterFlags | IORING_ENTER_GETEVENTS);
    }

    private int enter(int pending, int minComplete, int getEvents) {
        int flags = enterFlags | getEvents;
        if ((setupFlags & IORING_SETUP_SQPOLL) != 0) {
            int wake = sqWakeupFlag();
            if (wake == 0 && getEvents == 0) {
                return pending; // the SQ thread is awake and picks the new tail up by itself
            }
            flags |= wake;
        } else if (pending == 0 && getEvents == 0) {
            return 0;
        }
        if ((setupFlags & IORING_SETUP_IOPOLL) != 0) {
            flags |= IORING_ENTER_GETEVENTS; // polled completions are only found by entering
        }
        return IoUring.enter(enterFd, pending, minComplete, flags);
    }

    private int sqWakeupFlag() {
        if ((setupFlags & IORING_SETUP_SQPOLL) == 0) {
            return 0;
        }
        // Full fence (liburing's io_uring_smp_mb): the tail store must be visible before we read
        // NEED_WAKEUP, else the SQ thread may go to sleep after our read and miss the new tail.
        VarHandle.fullFence();
        return (sqFlags() & IORING_SQ_NEED_WAKEUP) != 0 ? IORING_ENTER_SQ_WAKEUP : 0;
    }

    // ---- completion ---------------------------------------------------------------------------

    /** Reaps every completion ready now; see {@link #forEachCompletion(CompletionHandler, int)}. */
    public int forEachCompletion(CompletionHandler handler) {
        return forEachCompletion(handler, Integer.MAX_VALUE);
    }

    /**
     * Hands up to {@code max} ready completions to {@code handler} in order and returns how many.
     * The CQ tail is read once (acquire); the head is published once (release) in a
     * {@code finally}, so a handler that throws loses neither the completions it saw (they are
     * consumed, including the one that threw) nor those after it (still in the ring).
     */
    public int forEachCompletion(CompletionHandler handler, int max) {
        // Only this thread writes the head, so a plain read sees our own last store.
        int head = (int) INT.get(cq, cqHeadOff);
        int ready = (int) INT.getAcquire(cq, cqTailOff) - head;
        int n = Math.min(ready, max);
        int done = 0;
        try {
            while (done < n) {
                long cqe = cqesOff + ((head + done) & cqMask) * cqeSize;
                long userData = cq.get(JAVA_LONG, cqe + IoUringCqe.USER_DATA);
                int res = cq.get(JAVA_INT, cqe + IoUringCqe.RES);
                int flags = cq.get(JAVA_INT, cqe + IoUringCqe.FLAGS);
                done++;
                handler.onCompletion(userData, res, flags);
            }
        } finally {
            if (done > 0) {
                INT.setRelease(cq, cqHeadOff, head + done);
            }
        }
        return done;
    }

    /** Completions ready to reap. */
    public int cqReady() {
        return (int) INT.getAcquire(cq, cqTailOff) - (int) INT.get(cq, cqHeadOff);
    }

    /**
     * Whether completions wait outside the CQ: the CQ overflowed (kept by IORING_FEAT_NODROP) or
     * task work is pending under COOP/DEFER_TASKRUN; {@link #flushCompletions()} brings them in.
     */
    public boolean cqNeedsFlush() {
        return (sqFlags() & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
    }

    /** IORING_SQ_* flags the kernel sets in the SQ ring (NEED_WAKEUP, CQ_OVERFLOW, TASKRUN). */
    public int sqFlags() {
        return (int) INT.getAcquire(sq, sqFlagsOff);
    }

    /** Completions the kernel dropped because the CQ was full (only without IORING_FEAT_NODROP). */
    public int cqOverflow() {
        return (int) INT.getAcquire(cq, cqOverflowOff);
    }

    /** Invalid SQEs the kernel skipped. */
    public int sqDropped() {
        return (int) INT.getAcquire(sq, sqDroppedOff);
    }

    // ---- parameters ---------------------------------------------------------------------------

    /** The ring fd (for io_uring_register, IORING_OP_MSG_RING targets, polling). */
    public int fd() {
        return ringFd;
    }

    /** SQ entries the kernel gave (a power of two, at least the requested count). */
    public int sqEntries() {
        return sqEntries;
    }

    /** CQ entries the kernel gave. */
    public int cqEntries() {
        return cqEntries;
    }

    /** IORING_SETUP_* flags the ring was set up with, as the kernel read them back. */
    public int setupFlags() {
        return setupFlags;
    }

    /** IORING_FEAT_* bits the kernel reported. */
    public int features() {
        return features;
    }

    /** Whether the kernel reported IORING_FEAT_* {@code feature}. */
    public boolean hasFeature(int feature) {
        return (features & feature) == feature;
    }

    /** Whether {@link #close()} has not been called. */
    public boolean isOpen() {
        return !closed;
    }

    /** The registered index of the ring fd, or -1 when it is not registered. */
    public int registeredIndex() {
        return enterFlags != 0 ? enterFd : -1;
    }

    /**
     * Unregisters the ring fd if this thread registered it, unmaps the rings and closes the fd,
     * which cancels what is in flight. Idempotent. A ring fd registered by another thread stays
     * pinned in that thread's table until it unregisters it or exits.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (ringFdOwner == Thread.currentThread()) {
                IoUringRegister.unregisterRingFd(this);
            }
        } finally {
            arena.close();
            try {
                unmapAll(sqMap, cqMap, sqesMap);
            } finally {
                Files.close(ringFd);
            }
        }
    }
}
