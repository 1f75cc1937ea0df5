package dev.keel.io.uring;

/**
 * The io_uring transport's vocabulary: the operation codes carried in a request's user_data and
 * the bits of a connection's poller state ({@code ConnectionTable.POLLER_STATE}), shared by
 * {@link UringPoller} and its parts (receives, sends, connects, file regions, accepting).
 */
final class UringOps {
    // user_data: the operation in the high 32 bits, the connection's slot in the low 32.
    static final int OP_WAKE = 1;
    static final int OP_ACCEPT = 2;
    static final int OP_RECV = 3;
    static final int OP_SEND = 4;
    static final int OP_POLL_OUT = 5;
    static final int OP_SHUTDOWN = 6;
    static final int OP_CANCEL = 7;
    static final int OP_CLOSE = 8;
    static final int OP_IGNORE = 9;
    static final int OP_CONNECT = 10;
    static final int OP_FILES_UPDATE = 11;
    /** A file region's splice from the file into the connection's pipe. */
    static final int OP_FILE_IN = 12;
    /** A file region's splice from the connection's pipe to its socket. */
    static final int OP_FILE_OUT = 13;
    /** A datagram endpoint's multishot recvmsg; the slot is the endpoint's id. */
    static final int OP_DGRAM_RECV = 14;
    /** A datagram endpoint's sendmsg. */
    static final int OP_DGRAM_SEND = 15;
    /** A datagram endpoint's one-shot POLLERR poll: its error queue holds something (a transmit timestamp). */
    static final int OP_DGRAM_ERRQUEUE = 16;

    // Bits of a connection's poller state.
    static final int RECV_ARMED = 1;
    static final int RECV_CANCELLING = 1 << 1;
    static final int SEND_BUSY = 1 << 2;
    static final int POLL_OUT_ARMED = 1 << 3;
    static final int EOF_HELD = 1 << 4;
    static final int STARVED = 1 << 5;
    /** A shutdown is in the kernel: the close waits for it (see {@link UringPoller#close}). */
    static final int SHUTDOWN_BUSY = 1 << 6;
    /** The connection was closed while its shutdown was in the kernel: close when it completes. */
    static final int CLOSE_DEFERRED = 1 << 7;
    /** An outbound socket is being moved into the fixed file table: a close waits for it ({@link UringConnects}). */
    static final int ADOPTING = 1 << 8;
    /** A splice of the file region is in the kernel (with SEND_BUSY: it is the connection's output request). */
    static final int FILE_BUSY = 1 << 9;
    /** That splice is the one to the socket, which may wait on the peer: a close cancels it. */
    static final int FILE_OUT_BUSY = 1 << 10;
    /** The socket took only part of the pipe: the next splice to it waits for writability. */
    static final int FILE_WAIT = 1 << 11;
    /** A connect is in the kernel ({@link UringConnects}): a close cancels it. */
    static final int CONNECT_BUSY = 1 << 12;

    private UringOps() {
    }

    /** A request's user_data: the operation in the high 32 bits, the connection's slot in the low 32. */
    static long userData(int op, int slot) {
        return ((long) op << 32) | (slot & 0xFFFF_FFFFL);
    }
}
