package dev.keel.io;

import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.io.loop.FileRegions;

import java.lang.foreign.MemorySegment;

/**
 * One accepted TCP connection of an {@link EventLoop}. Its state lives off-heap in the loop's
 * connection table; this object only names it (loop, slot, generation) and carries the
 * application's attachment. Methods must be called on the loop thread (handlers are); from
 * elsewhere, go through {@link EventLoop#execute}. Once closed, every method that reaches the
 * socket or the loop's state for it — writes, reading control, {@link #peerAddress},
 * {@link #userArea()} — throws {@link StaleHandleException}, even after the slot is reused;
 * only {@link #isOpen()}, {@link #pendingOutputBytes()} (0), {@link #handle()}, {@link #loop()} and
 * the attachment still answer.
 */
public final class Connection {
    /**
     * The error {@link ConnectionHandler#onFileSent} reports when a file ended before its region
     * did (it was truncated meanwhile): ENODATA.
     */
    public static final int FILE_TRUNCATED = FileRegions.TRUNCATED;

    private final LoopCore core;
    private final int slot;
    private final long handle;
    private final int fd;
    private final MemorySegment userArea;
    final ConnectionHandler handler;
    private Object attachment;
    /** Whether the handler heard {@code onOpen}: only then does it hear {@code onClose}. Loop thread. */
    boolean opened;

    /** For an outbound connection, where it connects to and why it failed (null while it has not); else null. */
    java.net.InetSocketAddress remote;
    ConnectFailure failure;
    long timeoutNanos;

    Connection(LoopCore core, int slot, long handle, int fd, MemorySegment userArea, ConnectionHandler handler) {
        this.core = core;
        this.handler = handler;
        this.slot = slot;
        this.handle = handle;
        this.fd = fd;
        this.userArea = userArea;
    }

    /**
     * Writes {@code data} now as far as the socket takes it and queues the rest (copied into the
     * loop's buffers), preserving order. Past the high water mark reading pauses — this
     * connection's, or its source's after {@link #feedFrom} — until the queue drains below the
     * low one, then {@link ConnectionHandler#onWritable} runs.
     */
    public void write(MemorySegment data) {
        core.writes.write(core.liveSlot(this), this, data);
    }

    /**
     * Sends {@code head} (copied into the queue; may be empty), then {@code length} bytes of the
     * file {@code fileFd} from {@code offset}, after every byte queued before and before every
     * byte written after, without the file's bytes entering Java. The transport carries the file
     * its own way, in chunks as the socket takes them: epoll with sendfile(2) (the head with
     * MSG_MORE, so it shares a segment with the file's first bytes), io_uring with splice
     * requests in its ring through a pipe of the loop's (so direct descriptors work).
     * {@link ConnectionHandler#onFileSent} tells when the region is over — sent, or failed
     * with the file's error, after which the connection is closed; a connection closed first
     * (peer reset, abort) ends it with {@link ConnectionHandler#onClose} instead.
     *
     * <p>One region at a time per connection. The file's bytes count neither in
     * {@link #pendingOutputBytes()} nor in the water marks; a graceful {@link #close()} or
     * {@link #shutdownOutput()} waits for the region like for queued bytes.
     *
     * <p><b>The descriptor stays the caller's:</b> the loop only reads from it, and the caller
     * must keep it open (and the file's bytes in place) until {@code onFileSent} or
     * {@code onClose}, whichever comes first — on io_uring the kernel may read it until then.
     *
     * @throws IllegalStateException when a region is in progress or the output is shut
     * @throws IllegalArgumentException for a negative descriptor or offset, or a length not above 0
     */
    public void writeFile(MemorySegment head, int fileFd, long offset, long length) {
        core.writes.writeFile(core.liveSlot(this), this, head, fileFd, offset, length);
    }

    /**
     * Asks for {@link ConnectionHandler#onWritable} once every queued byte is sent and the
     * socket can take more.
     */
    public void notifyWhenWritable() {
        core.writes.notifyWhenWritable(core.liveSlot(this));
    }

    /**
     * Stops reading from the socket until {@link #resumeReading()}, independently of the water
     * marks: for a protocol that must finish one answer before it reads the next request.
     */
    public void pauseReading() {
        core.writes.pauseReading(core.liveSlot(this));
    }

    /** Undoes {@link #pauseReading()}; bytes that arrived meanwhile are delivered on the next pass. */
    public void resumeReading() {
        core.writes.resumeReading(core.liveSlot(this));
    }

    /**
     * Names {@code source}, another connection of this loop whose input the application writes
     * to this one (the other side of a relay, a proxy's client or upstream), as the connection
     * this one's water marks hold back: once this connection's queued output passes the high
     * water mark, {@code source} stops reading — not this connection — until the queue drains
     * below the low one; then {@code source} reads again and {@link ConnectionHandler#onWritable}
     * runs as usual. Pausing the writer's own reading, the default, suits a server answering
     * its own requests; a relay must go on reading the peer it writes to, or a peer that writes
     * while it does not read and a relay that waits for it to read wait for each other forever.
     * A source held back by several connections reads again when the last of them drained; a
     * connection that closes lets its source read again. {@code null} restores the default.
     * Allocation-free.
     *
     * @throws IllegalArgumentException when {@code source} is of another loop, or is this connection
     * @throws StaleHandleException     when either connection is closed
     */
    public void feedFrom(Connection source) {
        core.writes.feedFrom(core.liveSlot(this), source);
    }

    /**
     * Tells the loop that {@code bytes} left on the socket without {@link #write} or
     * {@link #writeFile}: they count in the loop's statistics and as activity. Package-private
     * since file regions go through the transport: no module above io-core writes on a
     * connection's descriptor.
     */
    void recordOutput(long bytes) {
        int slot = core.liveSlot(this);
        if (bytes > 0) {
            core.writes.sent(slot, bytes);
        }
    }

    /**
     * Hands the last {@code bytes} of the data given to the current {@link ConnectionHandler#onData}
     * call back to the loop: they are delivered again, in front of the next bytes that arrive,
     * as one segment. For a protocol whose message arrived in part (a frame's header without
     * all its body). Callable only within this connection's onData; the last call wins. The
     * bytes wait in a buffer of the loop's pool, at most the pool's largest buffer size: keeping
     * more closes the connection as {@link CloseReason#FRAME_TOO_LARGE}.
     *
     * @throws IllegalStateException    outside this connection's onData
     * @throws IllegalArgumentException when {@code bytes} is negative or more than were delivered
     */
    public void keep(long bytes) {
        core.cumulation.keep(core.liveSlot(this), bytes);
    }

    /**
     * Closes at once, dropping pending output, with {@code reason}: for protocol code that knows
     * why, such as a framer refusing a frame ({@link CloseReason#FRAME_TOO_LARGE}).
     */
    public void abort(CloseReason reason) {
        core.lifecycle.closeNow(core.liveSlot(this), java.util.Objects.requireNonNull(reason, "reason"));
    }

    /**
     * Closes the connection as {@link CloseReason#READ_TIMEOUT} once no byte arrived for
     * {@code timeout} (counted from now, on the loop's wheel, so to the tick);
     * {@link java.time.Duration#ZERO} turns it off. Apart from the loop's idle timeout, which output
     * also resets.
     */
    public void readTimeout(java.time.Duration timeout) {
        core.timeouts.setReadTimeout(core.liveSlot(this), nonNegative(timeout));
    }

    /**
     * Closes the connection as {@link CloseReason#WRITE_TIMEOUT} once queued output made no
     * progress for {@code timeout} (a peer that stopped reading); {@link java.time.Duration#ZERO}
     * turns it off. A connection with nothing queued never times out this way.
     */
    public void writeTimeout(java.time.Duration timeout) {
        core.timeouts.setWriteTimeout(core.liveSlot(this), nonNegative(timeout));
    }

    private static long nonNegative(java.time.Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        return timeout.toNanos();
    }

    /** Closes after pending output is sent ({@link CloseReason#LOCAL}). */
    public void close() {
        core.lifecycle.close(core.liveSlot(this));
    }

    /** Closes at once, dropping pending output ({@link CloseReason#ABORTED}). */
    public void abort() {
        core.lifecycle.closeNow(core.liveSlot(this), CloseReason.ABORTED);
    }

    /**
     * Closes at once with a TCP reset (RST, by SO_LINGER 0) instead of a FIN, dropping pending
     * output, as {@link CloseReason#ABORTED}: the peer reads ECONNRESET rather than an end of
     * stream, so it cannot take a cut-off stream for a complete one. For passing on a reset (a
     * proxy whose other side was reset). On io_uring with
     * {@link LoopOptions.Builder#directDescriptors direct descriptors} there is no descriptor
     * to set the option on, and this is {@link #abort()}.
     */
    public void reset() {
        core.lifecycle.reset(core.liveSlot(this), this);
    }

    /**
     * Sends FIN once pending output is sent; reading goes on. Once the input has ended too
     * (before or after), the connection can move nothing more and the loop closes it.
     */
    public void shutdownOutput() {
        core.writes.shutdownOutput(core.liveSlot(this), this);
    }

    /** True until the connection is closed. */
    public boolean isOpen() {
        return core.isLive(handle);
    }

    /** Bytes queued and not yet taken by the socket; 0 once closed. */
    public long pendingOutputBytes() {
        return core.pendingBytes(this);
    }

    /** {@code generation << 32 | slot}: names this connection and no later user of its slot. */
    public long handle() {
        return handle;
    }

    /** The loop that owns this connection; its thread is the only one that may call this connection's other methods. */
    public EventLoop loop() {
        return core.loop;
    }

    /**
     * The socket descriptor; -1 on io_uring with
     * {@link LoopOptions.Builder#directDescriptors direct descriptors}, where the socket lives
     * only in the ring's fixed file table. Package-private: the transport alone makes system
     * calls on a connection's socket (bytes with {@link #write}, files with {@link #writeFile},
     * the peer with {@link #peerAddress}), so that both transports carry everything the same
     * way and direct descriptors work for every application; kernel TLS borrows it only
     * through {@link #lendForKernelTls}.
     *
     * @throws StaleHandleException once the connection is closed: its number may already be
     *         another socket's
     */
    int fd() {
        requireOpen();
        return fd;
    }

    /**
     * Kernel TLS (the kernel's {@code tls} upper layer protocol, Documentation/networking/tls.rst):
     * lends the socket's descriptor to the TLS library that switches this socket to kernel
     * encryption. OpenSSL under {@code SSL_OP_ENABLE_KTLS}, given the descriptor as its write
     * BIO, writes the handshake records to the socket itself and then hands the transmit keys to
     * the kernel ({@code setsockopt(TCP_ULP, "tls")}, {@code setsockopt(SOL_TLS, TLS_TX)}) when
     * the kernel takes them. From then on every byte the transport writes on the socket, with
     * {@link #write} or {@link #writeFile} alike, leaves encrypted by the kernel, so file bodies
     * stay zero-copy over TLS.
     *
     * <p>The one exception to "only the transport makes system calls on a connection's socket",
     * kept narrow: the borrower writes to the descriptor only while nothing of the connection's
     * output waits (this method answers only then, and a TLS handshake is the first output of its
     * connection), never reads, closes or otherwise changes it, and stops using it when the
     * connection closes (the number may then be another socket's).
     *
     * @return the descriptor, or -1 when none can be lent: io_uring with direct descriptors (the
     *         socket lives only in the ring), or output waiting in io-core (the borrower's
     *         bytes would overtake it)
     * @throws StaleHandleException once the connection is closed
     */
    public int lendForKernelTls() {
        requireOpen();
        if (fd < 0 || !core.outputDrained(this)) {
            return -1;
        }
        return fd;
    }

    /**
     * Writes the peer's socket address into {@code into} (at least
     * {@code SocketAddresses.STORAGE_SIZE} bytes) with getpeername(2). False when the
     * transport has no descriptor to ask (io_uring with direct descriptors) or the call failed
     * (the peer is gone).
     *
     * @throws StaleHandleException once the connection is closed
     */
    public boolean peerAddress(MemorySegment into) {
        requireOpen();
        if (fd < 0) {
            return false;
        }
        core.stats.countSyscalls(1);
        try {
            Sockets.peerAddress(fd, into);
            return true;
        } catch (SyscallException e) {
            return false;
        }
    }

    /**
     * The connection's off-heap user area ({@link LoopOptions.Builder#userAreaBytes}); empty when none.
     *
     * @throws StaleHandleException once the connection is closed: the area may already be
     *         another connection's
     */
    public MemorySegment userArea() {
        requireOpen();
        return userArea;
    }

    private void requireOpen() {
        if (!core.isLive(handle)) {
            throw new StaleHandleException(handle);
        }
    }

    /** The descriptor whatever the state: for the loop, which closes it after the handle went stale. */
    int descriptor() {
        return fd;
    }

    /** The object last {@link #attach attached} (null if none). Loop thread only; allocates nothing. */
    public Object attachment() {
        return attachment;
    }

    /**
     * Keeps {@code value} with the connection until it closes (a handler's per-connection state).
     * Loop thread only; the slot is cleared when the connection closes.
     */
    public void attach(Object value) {
        this.attachment = value;
    }

    int slot() {
        return slot;
    }

    @Override
    public String toString() {
        return "Connection[loop=" + core.index + ", slot=" + slot + ", generation=" + (int) (handle >>> 32)
                + ", fd=" + fd + "]";
    }
}
