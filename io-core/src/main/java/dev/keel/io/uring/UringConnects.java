package dev.keel.io.uring;

import dev.keel.ffm.Files;
import dev.keel.ffm.IoUringPrep;
import dev.keel.ffm.gen.Errno;
import dev.keel.io.loop.BufferPool;
import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.PollerHost;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FILE_INDEX_ALLOC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_FILES_UPDATE;
import static dev.keel.io.loop.ConnectionTable.FD;
import static dev.keel.io.loop.ConnectionTable.FLAG_CONNECTING;
import static dev.keel.io.loop.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.uring.UringPoller.OP_CONNECT;
import static dev.keel.io.uring.UringPoller.OP_FILES_UPDATE;
import static dev.keel.io.uring.UringPoller.userData;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Outbound connections on the io_uring transport: one IORING_OP_CONNECT per connection, and
 * with direct descriptors first an IORING_OP_FILES_UPDATE that moves the socket (made and
 * configured as a plain fd, since a fixed file takes no setsockopt) into a fixed file slot
 * the kernel picks (IORING_FILE_INDEX_ALLOC; the register call cannot pick one), after which
 * the plain fd is closed. The kernel reads the sockaddr and the fd array from a pool buffer
 * held until the connect's completion, so it never reads memory the loop reuses; the
 * completion frees it, arms the recv (the next pass's submissions) and tells the loop. A
 * connect cancelled by a close (a timeout, a shutdown) completes with ECANCELED and only gives
 * its buffer back; a close while the socket is being moved waits for the move, then closes
 * the fixed slot it got. Loop thread only.
 */
final class UringConnects {
    /** Where the sockaddr starts in the buffer, after the fd (one int, padded) the files update reads and writes. */
    private static final int ADDRESS_AT = 8;

    private final UringPoller poller;
    private final PollerHost loop;
    private final ConnectionTable table;
    private final BufferPool pool;
    private final IoUringPrep prep;
    private final boolean direct;
    private final int fileFlag;
    /** The pool buffer holding each connecting slot's fd and sockaddr, or -1. */
    private final int[] addressBuffer;
    private final int[] addressLength;

    UringConnects(UringPoller poller, PollerHost loop, IoUringPrep prep, boolean direct, int fileFlag) {
        this.poller = poller;
        this.loop = loop;
        this.table = loop.table();
        this.pool = loop.pool();
        this.prep = prep;
        this.direct = direct;
        this.fileFlag = fileFlag;
        this.addressBuffer = new int[loop.options().maxConnections()];
        this.addressLength = new int[loop.options().maxConnections()];
        Arrays.fill(addressBuffer, -1);
    }

    void connect(int slot, MemorySegment sockaddr, int length) {
        int bid = pool.acquire(ADDRESS_AT + length);
        if (bid < 0) {
            loop.connectFailed(slot, "connect", Errno.ENOBUFS);
            return;
        }
        MemorySegment region = pool.region();
        long at = pool.offset(bid);
        MemorySegment.copy(sockaddr, 0, region, at + ADDRESS_AT, length);
        addressBuffer[slot] = bid;
        addressLength[slot] = length;
        if (!direct) {
            submitConnect(slot);
            return;
        }
        region.set(JAVA_INT, at, poller.kernelFd(slot)); // the plain fd, for now
        int s = poller.sqe();
        prep.rw(s, IORING_OP_FILES_UPDATE, -1, pool.address(bid), 1, IORING_FILE_INDEX_ALLOC & 0xFFFF_FFFFL,
                userData(OP_FILES_UPDATE, slot));
        poller.opStarted(slot, UringPoller.ADOPTING);
    }

    private void submitConnect(int slot) {
        int bid = addressBuffer[slot];
        int s = poller.sqe();
        prep.connect(s, poller.kernelFd(slot), pool.address(bid) + ADDRESS_AT, addressLength[slot],
                userData(OP_CONNECT, slot));
        prep.addFlags(s, fileFlag);
        poller.opStarted(slot, 0);
    }

    /**
     * The socket of {@code slot} was moved into the fixed file table (res: slots updated) or
     * could not be: its plain fd closes either way; then the connect follows, or the fixed
     * slot closes when the connection was closed meanwhile.
     */
    void adopted(int slot, int res) {
        poller.clearState(slot, UringPoller.ADOPTING);
        int plain = poller.kernelFd(slot);
        int bid = addressBuffer[slot];
        int fixed = pool.region().get(JAVA_INT, pool.offset(bid));
        try {
            loop.countSyscalls(1);
            Files.closeQuietly(plain); // the fixed slot, if any, holds its own reference
            if (res > 0) {
                table.setInt(slot, FD, fixed);
            } else {
                table.setInt(slot, FD, -1);
            }
            if (!table.hasFlag(slot, FLAG_OPEN)) {
                release(slot);
                if (res > 0) {
                    prep.closeDirect(poller.sqe(), fixed, userData(UringPoller.OP_CLOSE, slot));
                    poller.opStarted(slot, 0);
                }
            } else if (res <= 0) {
                release(slot);
                loop.connectFailed(slot, "IORING_OP_FILES_UPDATE", res < 0 ? -res : Errno.ENFILE);
            } else {
                submitConnect(slot);
            }
        } finally {
            poller.opDone(slot);
        }
    }

    void completed(int slot, int res) {
        release(slot);
        try {
            if (table.hasFlag(slot, FLAG_OPEN) && table.hasFlag(slot, FLAG_CONNECTING)) {
                if (res == 0) {
                    poller.markDirty(slot); // arms the recv with the pass's submissions
                    loop.connected(slot);
                } else if (res != -Errno.ECANCELED) {
                    loop.connectFailed(slot, "connect", -res);
                }
            }
        } finally {
            poller.opDone(slot);
        }
    }

    private void release(int slot) {
        pool.release(addressBuffer[slot]);
        addressBuffer[slot] = -1;
    }
}
