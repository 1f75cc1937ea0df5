package dev.keel.io.uring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What the io_uring transport's newer kernel tools do on one loop: which of them this kernel
 * gave it (each is probed at set-up and falls back to the older way without it), and counters
 * that show each one at work.
 * <ul>
 * <li>{@link #noIowait}: blocking waits pass IORING_ENTER_NO_IOWAIT (Linux 6.15), so an idle
 *     loop with receives in flight does not show as I/O wait;</li>
 * <li>{@link #receiveBundles}: the multishot recv takes several provided buffers per completion
 *     (IORING_RECVSEND_BUNDLE, 6.10);</li>
 * <li>{@link #incrementalBuffers}: the provided buffer ring is consumed incrementally
 *     (IOU_PBUF_RING_INC, 6.12): a short receive takes only the bytes it needs of a buffer,
 *     which stays with the kernel (IORING_CQE_F_BUF_MORE) until it is full;</li>
 * <li>{@link #waitRegion}: the timeout of a blocking wait is read by the kernel from a
 *     registered wait region (IORING_REGISTER_MEM_REGION, IORING_ENTER_EXT_ARG_REG, 6.13),
 *     not copied in from an argument per call.</li>
 * </ul>
 *
 * <p>Only the loop thread writes, with plain stores; any thread may read, each value opaque
 * (never torn, possibly a pass behind), as {@link dev.keel.io.LoopStats} does.
 */
public final class UringStats {
    static final int NO_IOWAIT = 1;
    static final int RECEIVE_BUNDLES = 1 << 1;
    static final int INCREMENTAL_BUFFERS = 1 << 2;
    static final int WAIT_REGION = 1 << 3;

    private static final VarHandle TOOLS = field("tools", int.class);
    private static final VarHandle WAITS = field("waits", long.class);
    private static final VarHandle WAITS_WITHOUT_IOWAIT = field("waitsWithoutIowait", long.class);
    private static final VarHandle WAITS_THROUGH_REGION = field("waitsThroughRegion", long.class);
    private static final VarHandle BUNDLES = field("bundles", long.class);
    private static final VarHandle BUNDLED_BUFFERS = field("bundledBuffers", long.class);
    private static final VarHandle LARGEST_BUNDLE = field("largestBundle", long.class);
    private static final VarHandle PARTIAL_BUFFERS = field("partialBuffers", long.class);

    int tools;
    long waits;
    long waitsWithoutIowait;
    long waitsThroughRegion;
    long bundles;
    long bundledBuffers;
    long largestBundle;
    long partialBuffers;

    UringStats() {
    }

    private static VarHandle field(String name, Class<?> type) {
        try {
            return MethodHandles.lookup().findVarHandle(UringStats.class, name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // ---------------------------------------------------------------- loop thread

    void use(int tool) {
        tools |= tool;
    }

    boolean uses(int tool) {
        return (tools & tool) != 0;
    }

    /** A blocking io_uring_enter was made, with or without NO_IOWAIT and the wait region. */
    void waited(boolean withoutIowait, boolean throughRegion) {
        waits++;
        if (withoutIowait) {
            waitsWithoutIowait++;
        }
        if (throughRegion) {
            waitsThroughRegion++;
        }
    }

    /** One completion of a bundle recv carried {@code buffers} provided buffers (counted from 2). */
    void bundle(int buffers) {
        bundles++;
        bundledBuffers += buffers;
        if (buffers > largestBundle) {
            largestBundle = buffers;
        }
    }

    /** A completion named a buffer the kernel keeps filling (IORING_CQE_F_BUF_MORE). */
    void partialBuffer() {
        partialBuffers++;
    }

    // ---------------------------------------------------------------- any thread

    /** Whether blocking waits pass IORING_ENTER_NO_IOWAIT. */
    public boolean noIowait() {
        return (((int) TOOLS.getOpaque(this)) & NO_IOWAIT) != 0;
    }

    /** Whether the multishot recv takes bundles of provided buffers. */
    public boolean receiveBundles() {
        return (((int) TOOLS.getOpaque(this)) & RECEIVE_BUNDLES) != 0;
    }

    /** Whether the provided buffer ring is consumed incrementally. */
    public boolean incrementalBuffers() {
        return (((int) TOOLS.getOpaque(this)) & INCREMENTAL_BUFFERS) != 0;
    }

    /** Whether blocking waits read their timeout from the registered wait region. */
    public boolean waitRegion() {
        return (((int) TOOLS.getOpaque(this)) & WAIT_REGION) != 0;
    }

    /** Blocking io_uring_enter calls (waits for a completion). */
    public long waits() {
        return (long) WAITS.getOpaque(this);
    }

    /** Blocking waits made with IORING_ENTER_NO_IOWAIT. */
    public long waitsWithoutIowait() {
        return (long) WAITS_WITHOUT_IOWAIT.getOpaque(this);
    }

    /** Blocking waits whose timeout the kernel read from the registered wait region. */
    public long waitsThroughRegion() {
        return (long) WAITS_THROUGH_REGION.getOpaque(this);
    }

    /** Receive completions that carried more than one provided buffer. */
    public long bundles() {
        return (long) BUNDLES.getOpaque(this);
    }

    /** Provided buffers carried by the completions {@link #bundles} counts. */
    public long bundledBuffers() {
        return (long) BUNDLED_BUFFERS.getOpaque(this);
    }

    /** The most provided buffers one receive completion carried (0 before the first bundle). */
    public long largestBundle() {
        return (long) LARGEST_BUNDLE.getOpaque(this);
    }

    /** Receive completions whose buffer stayed with the kernel to be filled further. */
    public long partialBuffers() {
        return (long) PARTIAL_BUFFERS.getOpaque(this);
    }
}
