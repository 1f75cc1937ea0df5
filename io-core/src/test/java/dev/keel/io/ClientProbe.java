package dev.keel.io;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;

/** An outbound connection's handler for tests: records its open, bytes, close or failure. */
class ClientProbe implements ConnectionHandler {
    final CompletableFuture<Connection> opened = new CompletableFuture<>();
    final CompletableFuture<ConnectFailure> failed = new CompletableFuture<>();
    final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    @Override
    public void onOpen(Connection connection) {
        opened.complete(connection);
    }

    @Override
    public void onData(Connection connection, MemorySegment data) {
        synchronized (received) {
            received.writeBytes(data.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Override
    public void onClose(Connection connection, CloseReason reason) {
        closed.complete(reason);
    }

    @Override
    public void onConnectFailed(ConnectFailure failure) {
        if (!failed.complete(failure)) {
            throw new AssertionError("onConnectFailed twice: " + failure);
        }
    }

    byte[] received() {
        synchronized (received) {
            return received.toByteArray();
        }
    }
}
