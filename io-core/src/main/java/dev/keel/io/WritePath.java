package dev.keel.io;

import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.FileRegions;
import dev.keel.io.loop.OutboundQueue;

import java.lang.foreign.MemorySegment;

import static dev.keel.io.loop.ConnectionTable.FLAG_APP_READ_PAUSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.loop.ConnectionTable.FLAG_FEED_PAUSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_INPUT_CLOSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_NOTIFY_WRITABLE;
import static dev.keel.io.loop.ConnectionTable.FLAG_OUTPUT_SHUT;
import static dev.keel.io.loop.ConnectionTable.FLAG_OUTPUT_SHUTDOWN_PENDING;
import static dev.keel.io.loop.ConnectionTable.FLAG_PAUSING_FEEDER;
import static dev.keel.io.loop.ConnectionTable.FLAG_READ_PAUSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.loop.ConnectionTable.LAST_ACTIVE;

/**
 * A connection's output: what the socket takes at once, what waits in the loop's off-heap
 * {@link OutboundQueue} and in which order, the water marks that pause reading while too much
 * waits and call {@code onWritable} once it drained, and the closes and shutdowns that wait for
 * the queue to empty. Kept apart from the connection's life ({@link ConnectionLifecycle}) because
 * back-pressure is its own set of rules. Loop-confined.
 *
 * <p>Whose reading the water marks pause: by default the writing connection's own (a server
 * answering its requests stops taking requests while its answers pile up); for a connection
 * fed from another ({@link Connection#feedFrom}: a relay, a proxy) that other's, since a
 * relay must go on reading the peer it writes to. A source may be paused by several
 * connections at once: it reads again when the last of them drained (a count per slot).
 */
final class WritePath {
    private final LoopCore core;
    private final ConnectionTable table;
    private final OutboundQueue outbound;
    private final FileRegions files;
    private final LoopOptions options;
    /** Per slot: the handle of the connection whose reading this one's water marks pause, -1 for its own. */
    private final long[] feeders;
    /** Per slot: how many connections fed by it have paused its reading now. */
    private final int[] feedPauses;

    WritePath(LoopCore core) {
        this.core = core;
        this.table = core.table;
        this.outbound = core.outbound;
        this.files = core.outbound.files();
        this.options = core.options;
        this.feeders = new long[options.maxConnections];
        this.feedPauses = new int[options.maxConnections];
        java.util.Arrays.fill(feeders, -1);
    }

    /** Writes {@code data} on live connection {@code c}: at once when the socket takes it, else queued. */
    void write(int slot, Connection c, MemorySegment data) {
        if (table.hasFlag(slot, FLAG_CLOSING | FLAG_OUTPUT_SHUTDOWN_PENDING)) {
            throw new IllegalStateException(c + " is closing; its output is shut");
        }
        long length = data.byteSize();
        long written = 0;
        // Behind a file region nothing goes out at once: it waits in the queue for the region.
        boolean wasEmpty = outbound.pending(slot) == 0 && !files.active(slot);
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
        if (pending >= options.highWaterMark) {
            overHighWater(slot);
        }
    }

    /** Output past the high water mark: pause the reading of the feeder, or of the connection itself. */
    private void overHighWater(int slot) {
        long feeder = feeders[slot];
        if (feeder < 0) {
            if (!table.hasFlag(slot, FLAG_READ_PAUSED)) {
                table.setFlag(slot, FLAG_READ_PAUSED | FLAG_NOTIFY_WRITABLE);
                core.poller.update(slot);
            }
        } else if (!table.hasFlag(slot, FLAG_PAUSING_FEEDER)) {
            table.setFlag(slot, FLAG_PAUSING_FEEDER | FLAG_NOTIFY_WRITABLE);
            if (table.isLive(feeder)) {
                int source = ConnectionTable.slotOfHandle(feeder);
                if (feedPauses[source]++ == 0) {
                    table.setFlag(source, FLAG_FEED_PAUSED);
                    core.poller.update(source);
                }
            }
        }
    }

    /** The connection's output drained below the low water mark, or it closed: its feeder may read again. */
    private void releaseFeeder(int slot) {
        if (!table.hasFlag(slot, FLAG_PAUSING_FEEDER)) {
            return;
        }
        table.clearFlag(slot, FLAG_PAUSING_FEEDER);
        long feeder = feeders[slot];
        if (feeder >= 0 && table.isLive(feeder)) {
            int source = ConnectionTable.slotOfHandle(feeder);
            if (--feedPauses[source] == 0) {
                table.clearFlag(source, FLAG_FEED_PAUSED);
                core.poller.update(source);
            }
        }
    }

    /** {@link Connection#feedFrom}: {@code source} (live, of this loop) or null for the connection itself. */
    void feedFrom(int slot, Connection source) {
        long feeder = -1;
        if (source != null) {
            if (source.loop() != core.loop) {
                throw new IllegalArgumentException(source + " is not of this loop: a source must share its loop");
            }
            if (core.liveSlot(source) == slot) {
                throw new IllegalArgumentException("a connection cannot be its own source: that is the default");
            }
            feeder = source.handle();
        }
        releaseFeeder(slot); // a source paused under the old link reads again; the next write past the mark pauses the new one
        feeders[slot] = feeder;
    }

    /**
     * The connection in {@code slot} is closing now: a feeder it paused reads again, and the
     * slot's links are forgotten before it is reused.
     */
    void closed(int slot) {
        releaseFeeder(slot);
        feeders[slot] = -1;
        feedPauses[slot] = 0;
    }

    /** The socket took {@code n} bytes of the connection's output. */
    void sent(int slot, long n) {
        core.stats.bytesOut += n;
        table.setLong(slot, LAST_ACTIVE, core.tick);
        core.timeouts.wrote(slot);
    }

    /**
     * Queues {@code head} (copied; may be empty) and then the file region {@code [offset,
     * offset + length)} of {@code fileFd} behind what is queued already, and lets the transport
     * start moving it.
     */
    void writeFile(int slot, Connection c, MemorySegment head, int fileFd, long offset, long length) {
        if (table.hasFlag(slot, FLAG_CLOSING | FLAG_OUTPUT_SHUTDOWN_PENDING | FLAG_OUTPUT_SHUT)) {
            throw new IllegalStateException(c + " is closing; its output is shut");
        }
        if (files.active(slot)) {
            throw new IllegalStateException(c + " has a file region in progress; wait for onFileSent");
        }
        if (fileFd < 0 || offset < 0 || length <= 0) {
            throw new IllegalArgumentException("file region fd=" + fileFd + ", offset=" + offset + ", length=" + length);
        }
        long headLength = head.byteSize();
        if (headLength > 0 && !outbound.append(slot, head, 0, headLength)) {
            core.lifecycle.closeNow(slot, CloseReason.POOL_EXHAUSTED);
            return;
        }
        files.start(slot, fileFd, offset, length, outbound.pending(slot));
        table.setFlag(slot, FLAG_WANT_WRITE);
        core.poller.fileQueued(slot, c);
    }

    /** The socket took {@code n} bytes of the connection's file region. */
    void sentFile(int slot, long n) {
        core.stats.fileBytesOut += n;
        sent(slot, n);
    }

    /**
     * The connection's file region is over ({@code error} 0: sent to its last byte): the handler
     * hears it, and a failed region closes the connection, whose body was cut short.
     */
    void fileDone(int slot, Connection c, int error) {
        files.clear(slot);
        if (error == 0) {
            core.stats.filesSent++;
        } else {
            core.stats.fileFailures++;
        }
        try {
            c.handler.onFileSent(c, error);
        } catch (Throwable t) {
            core.lifecycle.handlerFailed(slot, t);
            return;
        }
        if (error != 0 && table.isLive(c.handle())) {
            core.lifecycle.closeNow(slot, CloseReason.ERROR);
        }
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
        if (outbound.drained(slot)) {
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
        if (outbound.drained(slot)) {
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
            releaseFeeder(slot);
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
