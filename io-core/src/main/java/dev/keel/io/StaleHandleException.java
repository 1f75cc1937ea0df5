package dev.keel.io;

/** An operation named a connection that has closed; its slot may already serve another. */
public final class StaleHandleException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    StaleHandleException(long handle) {
        super("connection handle 0x" + Long.toHexString(handle) + " (slot " + (int) handle
                + ", generation " + (int) (handle >>> 32) + ") is closed");
    }
}
