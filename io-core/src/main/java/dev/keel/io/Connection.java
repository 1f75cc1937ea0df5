package dev.keel.io;

import java.lang.foreign.MemorySegment;

/**
 * One accepted TCP connection of an {@link EventLoop}. Its state lives off-heap in the loop's
 * connection table; this object only names it (loop, slot, generation) and carries the
 * application's attachment. Methods must be called on the loop thread (handlers are); from
 * elsewhere, go through {@link EventLoop#execute}. Once closed, every method that reaches the
 * socket or the loop's state for it — writes, reading control, {@link #fd()},
 * {@link #userArea()} — throws {@link StaleHandleException}, even after the slot is reused;
 * only {@link #isOpen()}, {@link #pendingOutputBytes()} (0), {@link #handle()}, {@link #loop()} and
 * the attachment still answer.
 */
public final class Connection {
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
     * loop's buffers), preserving order. Past the high water mark reading pauses until the
     * queue drains below the low one, then {@link ConnectionHandler#onWritable} runs.
     */
    public void write(MemorySegment data) {
        core.writes.write(core.liveSlot(this), this, data);
    }

    /**
     * Asks for {@link ConnectionHandler#onWritable} once every queued byte is sent and the
     * socket can take more: the hook for output that does not pass through {@link #write},
     * such as a file sent with sendfile(2) on {@link #fd()}.
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
     * Tells the loop that {@code bytes} left on {@link #fd()} without {@link #write} (sendfile,
     * splice, the application's own writev): they count in the loop's statistics and as
     * activity, so a long transfer is not closed by the idle timeout.
     */
    public void recordOutput(long bytes) {
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
     * The socket descriptor, for options the API does not wrap; -1 on io_uring with
     * {@link LoopOptions.Builder#directDescriptors direct descriptors}, where the socket lives
     * only in the ring's fixed file table.
     *
     * @throws StaleHandleException once the connection is closed: its number may already be
     *         another socket's
     */
    public int fd() {
        requireOpen();
        return fd;
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
