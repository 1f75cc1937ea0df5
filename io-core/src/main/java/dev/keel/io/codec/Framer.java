package dev.keel.io.codec;

import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.ForwardingHandler;

import java.lang.foreign.MemorySegment;

/**
 * The part every framer shares: the connection's events go to the {@link FrameHandler}, and
 * {@code onData} cuts whole frames from the bytes, handing the unfinished rest back to the loop
 * ({@link Connection#keep}) to come again in front of the next bytes. A subclass only finds
 * where the next frame ends. One framer serves every connection of a handler (it keeps no
 * per-connection state: the loop keeps the partial bytes). The other events of the connection
 * go on to the handler unchanged ({@link ForwardingHandler}). Loop thread, allocation-free.
 */
public abstract class Framer extends ForwardingHandler {
    /** {@link #frameEnd}: the bytes from {@code from} hold no whole frame yet. */
    protected static final long INCOMPLETE = -1;
    /** {@link #frameEnd}: the frame is refused (too large); the connection was aborted. */
    protected static final long REFUSED = -2;

    private final FrameHandler handler;

    /** A framer handing each whole frame to {@code handler}, on the connection's loop thread. */
    protected Framer(FrameHandler handler) {
        super(handler);
        this.handler = handler;
    }

    /**
     * Where the frame starting at {@code from} in {@code data} ends (exclusive, frame bytes and
     * framing bytes), calling {@link #deliver} for it; or {@link #INCOMPLETE}; or {@link #REFUSED}
     * once it has aborted the connection.
     */
    protected abstract long frameEnd(Connection connection, MemorySegment data, long from);

    /** Hands one frame to the application. */
    protected final void deliver(Connection connection, MemorySegment data, long offset, long length) {
        handler.onFrame(connection, data, offset, length);
    }

    /** Refuses the connection's input: closes it at once as {@link CloseReason#FRAME_TOO_LARGE}. */
    protected static long refuse(Connection connection) {
        connection.abort(CloseReason.FRAME_TOO_LARGE);
        return REFUSED;
    }

    @Override
    public final void onData(Connection connection, MemorySegment data) {
        long size = data.byteSize();
        long at = 0;
        while (at < size) {
            long end = frameEnd(connection, data, at);
            if (end == REFUSED || !connection.isOpen()) {
                return;
            }
            if (end == INCOMPLETE) {
                connection.keep(size - at);
                return;
            }
            at = end;
        }
    }
}
