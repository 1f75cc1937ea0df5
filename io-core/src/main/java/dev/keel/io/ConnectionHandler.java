package dev.keel.io;

import java.lang.foreign.MemorySegment;

/**
 * What an application does with its connections. Every callback runs on the connection's loop
 * thread and must not block; an exception thrown from one closes that connection
 * ({@link CloseReason#HANDLER_ERROR}) and never the loop. The same handler code runs over
 * every transport.
 *
 * <p>Order: {@code onOpen} first, {@code onClose} last and once, and {@code onClose} only for a
 * connection whose {@code onOpen} was called (also when {@code onOpen} threw). A socket the
 * loop accepted but could not set up (its registration or socket options failed) is closed
 * without the handler hearing of it; the loop still counts it, accepted and closed, in its
 * {@link LoopStats}.
 */
public interface ConnectionHandler {
    /**
     * A connection was accepted and registered, or an outbound connection ({@link EventLoop#connect})
     * completed its connect; the first callback of every connection.
     */
    default void onOpen(Connection connection) {
    }

    /**
     * Bytes arrived. {@code data} is valid only during this call: copy what must outlive it.
     */
    void onData(Connection connection, MemorySegment data);

    /** Output queued past the high water mark has drained below the low one. */
    default void onWritable(Connection connection) {
    }

    /**
     * The peer shut down its sending side (end of stream). The default closes the connection
     * once pending output is sent; a handler that still has things to say may write first.
     * A connection whose output the application shut already ({@link Connection#shutdownOutput})
     * can move no byte either way any more: the loop closes it after this call.
     */
    default void onInputClosed(Connection connection) {
        connection.close();
    }

    /**
     * The connection is closed; its slot is free and its handle is stale from now on (its
     * {@link Connection#fd()} and {@link Connection#userArea()} throw). Called only after
     * {@link #onOpen}, and once.
     */
    default void onClose(Connection connection, CloseReason reason) {
    }

    /**
     * An outbound connection ({@link EventLoop#connect}) never opened: the connect was refused,
     * failed, timed out, found no room on the loop, or the loop shut down first. Its socket is
     * closed and its slot, buffers and timer are free when this runs; the handler hears neither
     * {@code onOpen} nor {@code onClose} of it. The only callback of such a connection, and
     * once; the default does nothing.
     */
    default void onConnectFailed(ConnectFailure failure) {
    }
}
