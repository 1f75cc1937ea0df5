package dev.keel.io;

import java.lang.foreign.MemorySegment;

/**
 * What an application does with its connections. Every callback runs on the connection's loop
 * thread and must not block; an exception thrown from one closes that connection
 * ({@link CloseReason#HANDLER_ERROR}) and never the loop. The same handler code runs over
 * every transport.
 */
public interface ConnectionHandler {
    /** A connection was accepted and registered. */
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
     */
    default void onInputClosed(Connection connection) {
        connection.close();
    }

    /** The connection is closed; its slot is free and its handle is stale from now on. */
    default void onClose(Connection connection, CloseReason reason) {
    }
}
