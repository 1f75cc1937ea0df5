package dev.keel.io;

/** Why a connection closed, as told to {@link ConnectionHandler#onClose}. */
public enum CloseReason {
    /** The application called {@link Connection#close()} and pending output was sent. */
    LOCAL,
    /** The peer closed its side and the connection was closed after the last byte was sent. */
    PEER_CLOSED,
    /** The peer reset the connection (ECONNRESET, EPIPE). */
    RESET,
    /** No byte moved for the idle timeout. */
    IDLE_TIMEOUT,
    /** The application called {@link Connection#abort()}, or a graceful close ran past its deadline. */
    ABORTED,
    /** The loop is shutting down. */
    SHUTDOWN,
    /** A handler callback threw; the loop closed the connection and went on. */
    HANDLER_ERROR,
    /** Output could not be queued: the loop's buffer pool had no buffer left. */
    POOL_EXHAUSTED,
    /** A system call on the connection failed with an unexpected errno. */
    ERROR,
    /** No byte arrived for the connection's read timeout ({@link Connection#readTimeout}). */
    READ_TIMEOUT,
    /** Queued output made no progress for the connection's write timeout ({@link Connection#writeTimeout}). */
    WRITE_TIMEOUT,
    /**
     * Inbound framing refused the input: a frame larger than its maximum, or more unconsumed
     * bytes than the connection's cumulation can hold ({@link Connection#keep}).
     */
    FRAME_TOO_LARGE
}
