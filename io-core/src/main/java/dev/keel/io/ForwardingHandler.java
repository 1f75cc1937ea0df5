package dev.keel.io;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A handler that passes every event of a connection on to another one — the base of handlers
 * that add one thing in front of the application's (a framer cuts frames from
 * {@code onData}, a {@link Reconnector} connects again after {@code onClose}) and leave the
 * rest alone. A subclass overrides what it adds and calls {@code super} to forward; every
 * callback of {@link ConnectionHandler}, {@code onFileSent} included, is forwarded here, so a
 * wrapper cannot forget one. Allocation-free.
 */
public abstract class ForwardingHandler implements ConnectionHandler {
    /** The handler every event goes on to. */
    protected final ConnectionHandler delegate;

    /** A handler forwarding to {@code delegate}. */
    protected ForwardingHandler(ConnectionHandler delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public void onOpen(Connection connection) {
        delegate.onOpen(connection);
    }

    @Override
    public void onData(Connection connection, MemorySegment data) {
        delegate.onData(connection, data);
    }

    @Override
    public void onWritable(Connection connection) {
        delegate.onWritable(connection);
    }

    @Override
    public void onFileSent(Connection connection, int error) {
        delegate.onFileSent(connection, error);
    }

    @Override
    public void onInputClosed(Connection connection) {
        delegate.onInputClosed(connection);
    }

    @Override
    public void onClose(Connection connection, CloseReason reason) {
        delegate.onClose(connection, reason);
    }

    @Override
    public void onConnectFailed(ConnectFailure failure) {
        delegate.onConnectFailed(failure);
    }
}
