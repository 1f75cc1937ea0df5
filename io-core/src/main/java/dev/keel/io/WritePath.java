package dev.keel.io;

import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.OutboundQueue;

import java.lang.foreign.MemorySegment;

import static dev.keel.io.loop.ConnectionTable.FLAG_APP_READ_PAUSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.loop.ConnectionTable.FLAG_INPUT_CLOSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_NOTIFY_WRITABLE;
import static dev.keel.io.loop.ConnectionTable.FLAG_OUTPUT_SHUT;
import static dev.keel.io.loop.ConnectionTable.FLAG_OUTPUT_SHUTDOWN_PENDING;
import static dev.keel.io.loop.ConnectionTable.FLAG_READ_PAUSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.loop.ConnectionTable.LAST_ACTIVE;

/**
 * A connection's output: what the socket takes at once, what waits in the loop's off-heap
 * {@link OutboundQueue} and in which order, the water marks that pause reading while too much
 * waits and call {@code onWritable} once it drained, and the closes and shutdowns that wait for
 * the queue to empty. Kept apart from the connection's life ({@link ConnectionLifecycle}) because
 * back-pressure is its own set of rules. Loop-confined.
 */
final class WritePath {
    private final LoopCore core;
    private final ConnectionTable table;
    private final OutboundQueue outbound;
    private final LoopOptions options;

    WritePath(LoopCore core) {
        this.core = core;
        this.table = core.table;
        this.outbound = core.outbound;
        this.options = core.options;
    }

    /** Writes {@code data} on live connection {@code c}: at once when the socket takes it, else queued. */
    void write(int slot, Connection c, MemorySegment data) {
        if (table.hasFlag(slot, FLAG_CLOSING | FLAG_OUTPUT_SHUTDOWN_PENDING)) {
            throw new IllegalStateException(c + " is closing; its output is shut");
        }
        long length = data.byteSize();
        long written = 0;
        boolean wasEmpty = outbound.pending(slot) == 0;
        if (wasEmpty) {
            core.timeouts.wrote(slot); // a write timeout counts from when output first waits
        }
        if (data.isNative()) {
            written = wasEmpty ? core.poller.writeNow(slot, c, data, length)
                    : core.poller.queueWithoutCopy(slot, data, length);
            if (written < 0) {
                return;
            }
        }
        if (written < length) {
            if (!outbound.append(slot, data, written, length - written)) {
                core.lifecycle.closeNow(slot, CloseReason.POOL_EXHAUSTED);
                return;
            }
            if (wasEmpty && !data.isNative() && core.poller.flushNow(slot, c) < 0) {
                return; // the kernel cannot read the Java heap: heap bytes go out from the queue
            }
        }
        // Queued bytes, whether copied above or adopted by the transport (io_uring), wait for space.
        long pending = outbound.pending(slot);
        if (pending > 0 && !table.hasFlag(slot, FLAG_WANT_WRITE)) {
            table.setFlag(slot, FLAG_WANT_WRITE);
            core.poller.update(slot);
        }
        if (pending >= options.highWaterMark && !table.hasFlag(slot, FLAG_READ_PAUSED)) {
            table.setFlag(slot, FLAG_READ_PAUSED | FLAG_NOTIFY_WRITABLE);
            core.poller.update(slot);
        }
    }

    /** The socket took {@code n} bytes of the connection's output. */
    void sent(int slot, long n) {
        core.stats.bytesOut += n;
        table.setLong(slot, LAST_ACTIVE, core.tick);
        core.timeouts.wrote(slot);
    }

    void pauseReading(int slot) {
        if (!table.hasFlag(slot, FLAG_APP_READ_PAUSED)) {
            table.setFlag(slot, FLAG_APP_READ_PAUSED);
            core.poller.update(slot);
        }
    }

    void resumeReading(int slot) {
        if (table.hasFlag(slot, FLAG_APP_READ_PAUSED)) {
            table.clearFlag(slot, FLAG_APP_READ_PAUSED);
            core.poller.update(slot);
        }
    }

    void notifyWhenWritable(int slot) {
        table.setFlag(slot, FLAG_WANT_WRITE | FLAG_NOTIFY_WRITABLE);
        core.poller.update(slot);
    }

    /** The application shuts the output: a FIN after the pending output; a close when input ended already. */
    void shutdownOutput(int slot, Connection c) {
        if (table.hasFlag(slot, FLAG_INPUT_CLOSED)) {
            // Input ended already: with the output shut nothing could move again, so this is a
            // close (the FIN still follows the pending output), not a connection left to hang.
            core.lifecycle.closeGracefully(slot);
            return;
        }
        table.setFlag(slot, FLAG_OUTPUT_SHUT);
        if (outbound.pending(slot) == 0) {
            core.poller.shutdownOutput(slot, c);
        } else {
            table.setFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING);
        }
    }

    /**
     * Output moved (the socket took queued bytes, or became writable): finish a pending close or
     * shutdown once the queue is empty, resume reading and call onWritable below the low mark.
     */
    void outputProgress(int slot, Connection c) {
        long pending = outbound.pending(slot);
        if (pending == 0) {
            table.clearFlag(slot, FLAG_WANT_WRITE);
            if (table.hasFlag(slot, FLAG_CLOSING)) {
                core.lifecycle.closeRecorded(slot);
                return;
            }
            if (table.hasFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING)) {
                table.clearFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING);
                core.poller.shutdownOutput(slot, c);
                if (!table.isLive(c.handle())) {
                    return;
                }
            }
        }
        if (pending <= options.lowWaterMark && table.hasFlag(slot, FLAG_NOTIFY_WRITABLE)) {
            table.clearFlag(slot, FLAG_NOTIFY_WRITABLE | FLAG_READ_PAUSED);
            core.poller.update(slot);
            try {
                c.handler.onWritable(c);
            } catch (Throwable t) {
                core.lifecycle.handlerFailed(slot, t);
                return;
            }
        }
        if (table.isLive(c.handle())) {
            core.poller.update(slot);
        }
    }
}
