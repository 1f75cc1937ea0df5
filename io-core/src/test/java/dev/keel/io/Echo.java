package dev.keel.io;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The echo handler the tests run, recording what the loop told it. */
class Echo implements ConnectionHandler {
    final AtomicInteger opened = new AtomicInteger();
    final Map<CloseReason, AtomicInteger> closed = new ConcurrentHashMap<>();
    final AtomicLong maxPending = new AtomicLong();
    final AtomicInteger writable = new AtomicInteger();

    @Override
    public void onOpen(Connection connection) {
        opened.incrementAndGet();
    }

    @Override
    public void onData(Connection connection, MemorySegment data) {
        connection.write(data);
        long pending = connection.pendingOutputBytes();
        if (pending > maxPending.get()) {
            maxPending.set(pending);
        }
    }

    @Override
    public void onWritable(Connection connection) {
        writable.incrementAndGet();
    }

    @Override
    public void onClose(Connection connection, CloseReason reason) {
        closed.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
    }

    int closedFor(CloseReason reason) {
        AtomicInteger n = closed.get(reason);
        return n == null ? 0 : n.get();
    }

    int closedTotal() {
        return closed.values().stream().mapToInt(AtomicInteger::get).sum();
    }
}
