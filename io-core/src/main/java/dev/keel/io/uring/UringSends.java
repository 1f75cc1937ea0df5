package dev.keel.io.uring;

import dev.keel.io.LoopOptions;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.ffm.IoUring;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.keel.ffm.gen.LinuxConstants.IORING_CQE_F_NOTIF;
import static dev.keel.ffm.gen.LinuxConstants.IORING_RECVSEND_FIXED_BUF;
import static dev.keel.ffm.gen.LinuxConstants.MSG_NOSIGNAL;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * How the io_uring transport hands a connection's queued output to the kernel, one send in
 * flight per connection: a queue spanning several buffers goes out as one gathered sendmsg
 * (its msghdr and iovecs taken from a small preallocated set, since the kernel reads them
 * until the completion); otherwise the oldest buffer goes out with IORING_OP_SEND, or with
 * SEND_ZC when it is long enough, from the registered pool when that is on.
 *
 * <p>A SEND_ZC completes twice: first with the count, then, once the kernel no longer reads the
 * buffer, with IORING_CQE_F_NOTIF. Only the second lets the queue release what was sent.
 *
 * <pre>
 *  gather slot g: [ msghdr (msg_iov -> iovecs of g, set once) | GATHER_IOV iovecs ]
 * </pre>
 */
final class UringSends {
    /** A send completion that is not the last of its send (SEND_ZC before its notification). */
    static final int NOT_DONE = Integer.MIN_VALUE;

    /** Gathered sends in flight at once, and iovecs per gathered send. */
    private static final int GATHER_SLOTS = 256;
    private static final int GATHER_IOV = 16;

    private final IoUringPrep prep;
    private final OutboundQueue outbound;
    private final int zeroCopyThreshold;
    private final boolean registeredBuffers;
    private final MemorySegment gather;
    private final long stride;
    private final MemorySegment[] iovecs;
    private final int[] free;
    private int freeCount;
    private final int[] gatherOf;
    private final int[] zcResult;

    UringSends(IoUringPrep prep, OutboundQueue outbound, LoopOptions options, Arena arena) {
        this.prep = prep;
        this.outbound = outbound;
        this.zeroCopyThreshold = options.zeroCopySendThreshold();
        this.registeredBuffers = options.registeredBuffers();
        this.stride = Msghdr.SIZE + Uio.iovecArraySize(GATHER_IOV);
        this.gather = arena.allocate(GATHER_SLOTS * stride, 8);
        this.iovecs = new MemorySegment[GATHER_SLOTS];
        this.free = new int[GATHER_SLOTS];
        for (int g = 0; g < GATHER_SLOTS; g++) {
            free[g] = g;
            iovecs[g] = gather.asSlice(g * stride + Msghdr.SIZE, Uio.iovecArraySize(GATHER_IOV));
            gather.set(JAVA_LONG, g * stride + Msghdr.MSG_IOV, iovecs[g].address());
        }
        freeCount = GATHER_SLOTS;
        this.gatherOf = new int[options.maxConnections()];
        Arrays.fill(gatherOf, -1);
        this.zcResult = new int[options.maxConnections()];
    }

    /**
     * Encodes into {@code sqe} a send of what {@code slot} may send now ({@link OutboundQueue#sendable},
     * not 0) on {@code fd}, with {@code moreFlags} (MSG_MORE before a file region, or 0).
     */
    void prepare(int sqe, int slot, int fd, long userData, int moreFlags) {
        if (freeCount > 0 && outbound.spansBuffers(slot)) {
            int g = free[--freeCount];
            gatherOf[slot] = g;
            int count = outbound.gather(slot, iovecs[g], GATHER_IOV);
            gather.set(JAVA_LONG, g * stride + Msghdr.MSG_IOVLEN, count);
            prep.sendmsg(sqe, fd, gather.address() + g * stride, MSG_NOSIGNAL | moreFlags, userData);
            return;
        }
        long address = outbound.headAddress(slot);
        int length = outbound.headLength(slot);
        if (zeroCopyThreshold > 0 && length >= zeroCopyThreshold) {
            // The kernel takes fixed buffers for zero-copy sends only: there they spare the page
            // pinning of every send; a copying send has nothing to pin.
            prep.sendZc(sqe, fd, address, length, MSG_NOSIGNAL | moreFlags, registeredBuffers ? IORING_RECVSEND_FIXED_BUF : 0,
                    userData);
            if (registeredBuffers) {
                prep.bufIndex(sqe, 0);
            }
        } else {
            prep.send(sqe, fd, address, length, MSG_NOSIGNAL | moreFlags, userData);
        }
    }

    /**
     * A completion of {@code slot}'s send: the send's result once it is over (its gather slot
     * freed), or {@link #NOT_DONE} when a zero-copy send still waits for its notification.
     */
    int completed(int slot, int res, int flags) {
        if ((flags & IORING_CQE_F_NOTIF) != 0) {
            res = zcResult[slot]; // SEND_ZC: the kernel let go of the buffer only now
        } else if (IoUring.hasMore(flags)) {
            zcResult[slot] = res; // SEND_ZC: the count; the buffer stays the kernel's until the notification
            return NOT_DONE;
        }
        int g = gatherOf[slot];
        if (g >= 0) {
            free[freeCount++] = g;
            gatherOf[slot] = -1;
        }
        return res;
    }
}
