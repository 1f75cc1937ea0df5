package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.IoUringSqe;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.IORING_ACCEPT_MULTISHOT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_ASYNC_CANCEL_FD;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FILE_INDEX_ALLOC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_ACCEPT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_ASYNC_CANCEL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_CLOSE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_CONNECT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_LINK_TIMEOUT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_MSG_RING;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_NOP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_POLL_ADD;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_POLL_REMOVE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_PROVIDE_BUFFERS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_READ;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_READV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_READ_FIXED;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_RECV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_RECVMSG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_REMOVE_BUFFERS;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SEND;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SENDMSG;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SEND_ZC;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SHUTDOWN;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_SPLICE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_TIMEOUT;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_TIMEOUT_REMOVE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_WRITE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_WRITEV;
import static dev.keel.ffm.gen.LinuxConstants.IORING_OP_WRITE_FIXED;
import static dev.keel.ffm.gen.LinuxConstants.IORING_POLL_ADD_MULTI;
import static dev.keel.ffm.gen.LinuxConstants.IORING_RECV_MULTISHOT;
import static dev.keel.ffm.gen.LinuxConstants.IOSQE_BUFFER_SELECT;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Encodes SQEs in place in a ring's mapped SQE array: one generic encoder, {@link #rw}, in the
 * shape of liburing's {@code io_uring_prep_rw}, and thin named operations over it that set the
 * one or two fields their opcode adds (see liburing's {@code io_uring_prep_*}). Every method
 * takes the index returned by {@link IoUringRing#nextSqe()} on a zeroed SQE.
 *
 * <pre>{@code
 * struct io_uring_sqe {          // 64 bytes
 *   __u8 opcode; __u8 flags; __u16 ioprio; __s32 fd;          //  0
 *   union { __u64 off; __u64 addr2; };                        //  8
 *   union { __u64 addr; __u64 splice_off_in; };               // 16
 *   __u32 len;                                                // 24
 *   union { __kernel_rwf_t rw_flags; __u32 msg_flags, accept_flags, timeout_flags, ... }; // 28
 *   __u64 user_data;                                          // 32
 *   union { __u16 buf_index; __u16 buf_group; };              // 40
 *   __u16 personality; union { __s32 splice_fd_in; __u32 file_index; }; __u64 addr3; ...
 * };
 * }</pre>
 *
 * <p>Addresses are raw ({@code segment.address()}); the memory they name belongs to the
 * kernel until the operation's completion arrives. Offsets come from
 * {@link dev.keel.ffm.gen.LinuxLayouts.IoUringSqe}.
 */
public final class IoUringPrep {
    private final MemorySegment sqes;
    private final long sqeSize;

    IoUringPrep(MemorySegment sqes, long sqeSize) {
        this.sqes = sqes;
        this.sqeSize = sqeSize;
    }

    private long base(int sqe) {
        return sqe * sqeSize;
    }

    /**
     * The generic encoder: opcode, fd, addr, len, offset and user_data, the fields every
     * operation uses (liburing's {@code io_uring_prep_rw} plus {@code io_uring_sqe_set_data64}).
     */
    public void rw(int sqe, int opcode, int fd, long addr, int len, long offset, long userData) {
        long b = base(sqe);
        sqes.set(JAVA_BYTE, b + IoUringSqe.OPCODE, (byte) opcode);
        sqes.set(JAVA_INT, b + IoUringSqe.FD, fd);
        sqes.set(JAVA_LONG, b + IoUringSqe.OFF, offset);
        sqes.set(JAVA_LONG, b + IoUringSqe.ADDR, addr);
        sqes.set(JAVA_INT, b + IoUringSqe.LEN, len);
        sqes.set(JAVA_LONG, b + IoUringSqe.USER_DATA, userData);
    }

    // ---- per-SQE modifiers ----------------------------------------------------------------------

    /** ORs IOSQE_* {@code flags} (FIXED_FILE, IO_LINK, BUFFER_SELECT, CQE_SKIP_SUCCESS, ...) into the SQE. */
    public void addFlags(int sqe, int flags) {
        long at = base(sqe) + IoUringSqe.FLAGS;
        sqes.set(JAVA_BYTE, at, (byte) (sqes.get(JAVA_BYTE, at) | flags));
    }

    /** ORs op-specific bits into {@code ioprio} (IORING_RECV_MULTISHOT, IORING_ACCEPT_MULTISHOT, ...). */
    public void addIoprio(int sqe, int bits) {
        long at = base(sqe) + IoUringSqe.IOPRIO;
        sqes.set(JAVA_SHORT, at, (short) (sqes.get(JAVA_SHORT, at) | bits));
    }

    /** Sets the op-flags union (rw_flags, msg_flags, accept_flags, timeout_flags, cancel_flags, ...). */
    public void opFlags(int sqe, int flags) {
        sqes.set(JAVA_INT, base(sqe) + IoUringSqe.RW_FLAGS, flags);
    }

    /** Selects a provided buffer from group {@code bgid} (sets IOSQE_BUFFER_SELECT and buf_group). */
    public void bufferSelect(int sqe, int bgid) {
        addFlags(sqe, IOSQE_BUFFER_SELECT);
        sqes.set(JAVA_SHORT, base(sqe) + IoUringSqe.BUF_GROUP, (short) bgid);
    }

    /** Sets buf_index: the registered buffer of READ_FIXED/WRITE_FIXED or IORING_RECVSEND_FIXED_BUF. */
    public void bufIndex(int sqe, int index) {
        sqes.set(JAVA_SHORT, base(sqe) + IoUringSqe.BUF_INDEX, (short) index);
    }

    /**
     * Makes an fd-producing operation (accept, open, socket) install into fixed file slot
     * {@code slot}, or into a free one with IORING_FILE_INDEX_ALLOC (liburing's
     * {@code __io_uring_set_target_fixed_file}: the kernel takes slot + 1, 0 meaning none).
     */
    public void targetFixedFile(int sqe, int slot) {
        int value = slot == IORING_FILE_INDEX_ALLOC ? IORING_FILE_INDEX_ALLOC : slot + 1;
        sqes.set(JAVA_INT, base(sqe) + IoUringSqe.FILE_INDEX, value);
    }

    /** Overwrites user_data. */
    public void userData(int sqe, long userData) {
        sqes.set(JAVA_LONG, base(sqe) + IoUringSqe.USER_DATA, userData);
    }

    // ---- named operations -----------------------------------------------------------------------

    /** IORING_OP_NOP: completes with res 0; a round trip through the rings. */
    public void nop(int sqe, long userData) {
        rw(sqe, IORING_OP_NOP, -1, 0L, 0, 0L, userData);
    }

    /** IORING_OP_READ: pread(2) of {@code len} bytes at {@code offset} (-1: the file position). */
    public void read(int sqe, int fd, long buf, int len, long offset, long userData) {
        rw(sqe, IORING_OP_READ, fd, buf, len, offset, userData);
    }

    /** IORING_OP_WRITE: pwrite(2) of {@code len} bytes at {@code offset} (-1: the file position). */
    public void write(int sqe, int fd, long buf, int len, long offset, long userData) {
        rw(sqe, IORING_OP_WRITE, fd, buf, len, offset, userData);
    }

    /** IORING_OP_READV: preadv(2) into {@code count} iovecs at {@code iovecs}. */
    public void readv(int sqe, int fd, long iovecs, int count, long offset, long userData) {
        rw(sqe, IORING_OP_READV, fd, iovecs, count, offset, userData);
    }

    /** IORING_OP_WRITEV: pwritev(2) of {@code count} iovecs at {@code iovecs}. */
    public void writev(int sqe, int fd, long iovecs, int count, long offset, long userData) {
        rw(sqe, IORING_OP_WRITEV, fd, iovecs, count, offset, userData);
    }

    /** IORING_OP_READ_FIXED: read into registered buffer {@code bufIndex} ({@code buf} lies inside it). */
    public void readFixed(int sqe, int fd, long buf, int len, long offset, int bufIndex, long userData) {
        rw(sqe, IORING_OP_READ_FIXED, fd, buf, len, offset, userData);
        bufIndex(sqe, bufIndex);
    }

    /** IORING_OP_WRITE_FIXED: write from registered buffer {@code bufIndex}. */
    public void writeFixed(int sqe, int fd, long buf, int len, long offset, int bufIndex, long userData) {
        rw(sqe, IORING_OP_WRITE_FIXED, fd, buf, len, offset, userData);
        bufIndex(sqe, bufIndex);
    }

    /** IORING_OP_RECV: recv(2) into {@code buf} with MSG_* {@code msgFlags}. */
    public void recv(int sqe, int fd, long buf, int len, int msgFlags, long userData) {
        rw(sqe, IORING_OP_RECV, fd, buf, len, 0L, userData);
        opFlags(sqe, msgFlags);
    }

    /**
     * IORING_OP_RECV into a buffer the kernel picks from provided-buffer group {@code bgid};
     * the completion's flags carry the buffer id ({@link IoUring#bufferId}). {@code len} 0 means
     * the whole buffer.
     */
    public void recvSelect(int sqe, int fd, int bgid, int len, int msgFlags, long userData) {
        recv(sqe, fd, 0L, len, msgFlags, userData);
        bufferSelect(sqe, bgid);
    }

    /**
     * Multishot IORING_OP_RECV (6.0): one SQE, one completion per arrival, each in a buffer from
     * group {@code bgid}, armed while completions carry IORING_CQE_F_MORE.
     */
    public void recvMultishot(int sqe, int fd, int bgid, int msgFlags, long userData) {
        recvSelect(sqe, fd, bgid, 0, msgFlags, userData);
        addIoprio(sqe, IORING_RECV_MULTISHOT);
    }

    /** IORING_OP_SEND: send(2) of {@code len} bytes with MSG_* {@code msgFlags}. */
    public void send(int sqe, int fd, long buf, int len, int msgFlags, long userData) {
        rw(sqe, IORING_OP_SEND, fd, buf, len, 0L, userData);
        opFlags(sqe, msgFlags);
    }

    /**
     * IORING_OP_SEND_ZC (6.0): zero-copy send; {@code buf} stays the kernel's until the second
     * completion with IORING_CQE_F_NOTIF. {@code zcFlags} go to ioprio (IORING_RECVSEND_*).
     */
    public void sendZc(int sqe, int fd, long buf, int len, int msgFlags, int zcFlags, long userData) {
        rw(sqe, IORING_OP_SEND_ZC, fd, buf, len, 0L, userData);
        opFlags(sqe, msgFlags);
        addIoprio(sqe, zcFlags);
    }

    /** IORING_OP_SENDMSG: sendmsg(2) of the {@code struct msghdr} at {@code msghdr}. */
    public void sendmsg(int sqe, int fd, long msghdr, int msgFlags, long userData) {
        rw(sqe, IORING_OP_SENDMSG, fd, msghdr, 1, 0L, userData);
        opFlags(sqe, msgFlags);
    }

    /**
     * IORING_OP_SPLICE (5.7): splice(2) of up to {@code len} bytes from {@code fdIn} at
     * {@code offIn} to {@code fdOut} at {@code offOut}; an offset of -1 means "no offset" (a
     * pipe's, or the descriptor's own position). {@code fdOut} is the request's file (fixed
     * with IOSQE_FIXED_FILE); {@code fdIn} is a fixed file when {@code spliceFlags} has
     * SPLICE_F_FD_IN_FIXED. The kernel runs it on an io-wq worker, blocking.
     */
    public void splice(int sqe, int fdIn, long offIn, int fdOut, long offOut, int len, int spliceFlags,
                       long userData) {
        rw(sqe, IORING_OP_SPLICE, fdOut, 0L, len, offOut, userData);
        long b = base(sqe);
        sqes.set(JAVA_LONG, b + IoUringSqe.SPLICE_OFF_IN, offIn);
        sqes.set(JAVA_INT, b + IoUringSqe.SPLICE_FD_IN, fdIn);
        sqes.set(JAVA_INT, b + IoUringSqe.SPLICE_FLAGS, spliceFlags);
    }

    /** IORING_OP_RECVMSG: recvmsg(2) into the {@code struct msghdr} at {@code msghdr}. */
    public void recvmsg(int sqe, int fd, long msghdr, int msgFlags, long userData) {
        rw(sqe, IORING_OP_RECVMSG, fd, msghdr, 1, 0L, userData);
        opFlags(sqe, msgFlags);
    }

    /**
     * IORING_OP_ACCEPT: accept4(2) on listening {@code fd}; {@code addr}/{@code addrLen} may be 0.
     * With {@code multishot} (5.19) one SQE keeps accepting while completions carry F_MORE.
     */
    public void accept(int sqe, int fd, long addr, long addrLen, int acceptFlags, boolean multishot, long userData) {
        rw(sqe, IORING_OP_ACCEPT, fd, addr, 0, addrLen, userData);
        opFlags(sqe, acceptFlags);
        if (multishot) {
            addIoprio(sqe, IORING_ACCEPT_MULTISHOT);
        }
    }

    /**
     * IORING_OP_ACCEPT into fixed file slot {@code slot} (or IORING_FILE_INDEX_ALLOC, required
     * with multishot): the completion's res is the slot, no fd enters the process table.
     */
    public void acceptDirect(int sqe, int fd, int acceptFlags, boolean multishot, int slot, long userData) {
        accept(sqe, fd, 0L, 0L, acceptFlags, multishot, userData);
        targetFixedFile(sqe, slot);
    }

    /** IORING_OP_CONNECT to the sockaddr at {@code addr} of {@code addrLen} bytes. */
    public void connect(int sqe, int fd, long addr, int addrLen, long userData) {
        rw(sqe, IORING_OP_CONNECT, fd, addr, 0, addrLen, userData);
    }

    /** IORING_OP_SHUTDOWN: shutdown(2) with SHUT_* {@code how}. */
    public void shutdown(int sqe, int fd, int how, long userData) {
        rw(sqe, IORING_OP_SHUTDOWN, fd, 0L, how, 0L, userData);
    }

    /** IORING_OP_CLOSE of a plain fd. */
    public void close(int sqe, int fd, long userData) {
        rw(sqe, IORING_OP_CLOSE, fd, 0L, 0, 0L, userData);
    }

    /** IORING_OP_CLOSE of fixed file slot {@code slot}, freeing the slot. */
    public void closeDirect(int sqe, int slot, long userData) {
        close(sqe, 0, userData);
        targetFixedFile(sqe, slot);
    }

    /** IORING_OP_POLL_ADD: one completion when {@code fd} has EPOLL*-style {@code events}; res is the mask. */
    public void pollAdd(int sqe, int fd, int events, long userData) {
        rw(sqe, IORING_OP_POLL_ADD, fd, 0L, 0, 0L, userData);
        // poll32_events is the rw_flags word; little-endian hosts store it as is (liburing __io_uring_prep_poll_mask).
        sqes.set(JAVA_INT, base(sqe) + IoUringSqe.POLL32_EVENTS, events);
    }

    /** Multishot IORING_OP_POLL_ADD (5.13): a completion on every readiness, with F_MORE while armed. */
    public void pollMultishot(int sqe, int fd, int events, long userData) {
        pollAdd(sqe, fd, events, userData);
        sqes.set(JAVA_INT, base(sqe) + IoUringSqe.LEN, IORING_POLL_ADD_MULTI);
    }

    /** IORING_OP_POLL_REMOVE of the poll submitted with {@code targetUserData}. */
    public void pollRemove(int sqe, long targetUserData, long userData) {
        rw(sqe, IORING_OP_POLL_REMOVE, -1, targetUserData, 0, 0L, userData);
    }

    /**
     * IORING_OP_TIMEOUT: completes with -ETIME after the {@code struct __kernel_timespec} at
     * {@code timespec}, or with 0 once {@code count} other completions arrived (0: time only).
     * {@code flags}: IORING_TIMEOUT_ABS, _BOOTTIME, _REALTIME, _ETIME_SUCCESS.
     */
    public void timeout(int sqe, long timespec, int count, int flags, long userData) {
        rw(sqe, IORING_OP_TIMEOUT, -1, timespec, 1, count, userData);
        opFlags(sqe, flags);
    }

    /** IORING_OP_TIMEOUT_REMOVE of the timeout submitted with {@code targetUserData}. */
    public void timeoutRemove(int sqe, long targetUserData, int flags, long userData) {
        rw(sqe, IORING_OP_TIMEOUT_REMOVE, -1, targetUserData, 0, 0L, userData);
        opFlags(sqe, flags);
    }

    /** IORING_OP_LINK_TIMEOUT: cancels the previous SQE (linked with IOSQE_IO_LINK) after {@code timespec}. */
    public void linkTimeout(int sqe, long timespec, int flags, long userData) {
        rw(sqe, IORING_OP_LINK_TIMEOUT, -1, timespec, 1, 0L, userData);
        opFlags(sqe, flags);
    }

    /**
     * IORING_OP_ASYNC_CANCEL of the request submitted with {@code targetUserData};
     * {@code flags} IORING_ASYNC_CANCEL_ALL cancels every match. res: 0, -ENOENT, -EALREADY.
     */
    public void asyncCancel(int sqe, long targetUserData, int flags, long userData) {
        rw(sqe, IORING_OP_ASYNC_CANCEL, -1, targetUserData, 0, 0L, userData);
        opFlags(sqe, flags);
    }

    /** IORING_OP_ASYNC_CANCEL of requests on {@code fd} (5.19); add IORING_ASYNC_CANCEL_FD_FIXED for a slot. */
    public void asyncCancelFd(int sqe, int fd, int flags, long userData) {
        rw(sqe, IORING_OP_ASYNC_CANCEL, fd, 0L, 0, 0L, userData);
        opFlags(sqe, flags | IORING_ASYNC_CANCEL_FD);
    }

    /**
     * IORING_OP_PROVIDE_BUFFERS (legacy, pre-ring): gives {@code count} buffers of {@code len}
     * bytes from {@code addr} to group {@code bgid} with ids from {@code firstBid}. Prefer
     * {@link ProvidedBufferRing}.
     */
    public void provideBuffers(int sqe, long addr, int len, int count, int bgid, int firstBid, long userData) {
        rw(sqe, IORING_OP_PROVIDE_BUFFERS, count, addr, len, firstBid, userData);
        sqes.set(JAVA_SHORT, base(sqe) + IoUringSqe.BUF_GROUP, (short) bgid);
    }

    /** IORING_OP_REMOVE_BUFFERS: takes up to {@code count} legacy buffers back from group {@code bgid}. */
    public void removeBuffers(int sqe, int count, int bgid, long userData) {
        rw(sqe, IORING_OP_REMOVE_BUFFERS, count, 0L, 0, 0L, userData);
        sqes.set(JAVA_SHORT, base(sqe) + IoUringSqe.BUF_GROUP, (short) bgid);
    }

    /**
     * IORING_OP_MSG_RING (5.18): posts a completion with {@code res} = {@code len} and user_data
     * {@code data} on the ring {@code ringFd}; a cross-thread wake-up between loops.
     */
    public void msgRing(int sqe, int ringFd, int len, long data, int flags, long userData) {
        rw(sqe, IORING_OP_MSG_RING, ringFd, 0L, len, data, userData);
        opFlags(sqe, flags);
    }
}
