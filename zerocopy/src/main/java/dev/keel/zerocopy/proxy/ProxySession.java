package dev.keel.zerocopy.proxy;

import dev.keel.io.CloseReason;
import dev.keel.io.ConnectFailure;
import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.MemorySegment;

/**
 * One proxied connection: the client's (downstream) connection accepted by a loop and the
 * upstream connection the same loop opened for it, so that the two never cross threads. It is
 * the upstream connection's handler; the downstream's events reach it through
 * {@link ProxyHandler}.
 *
 * <p>The rules, both ways alike:
 * <ul>
 *   <li>the client is not read until the upstream connection is open; a connect that fails
 *       (refused, timed out, ...) resets the client and is counted by its reason;</li>
 *   <li>bytes read on one side are written to the other: sent at once when its socket takes
 *       them, else queued in the loop's pool buffers (io_uring queues a whole receive buffer
 *       without a copy); nothing is allocated per message;</li>
 *   <li>back-pressure: each connection is the other's source ({@link Connection#feedFrom}), so
 *       a side whose queue passes the high water mark stops the reading of the other side
 *       until it drained below the low one, while its own input keeps flowing the other way;</li>
 *   <li>an end of stream is passed on as a half-close (shutdown of the other side's output once
 *       its queue is sent); when both directions ended the loop closes both connections;</li>
 *   <li>a connection that ends otherwise ends the other: after its queued bytes when it ended
 *       cleanly (closed, idle or timed out, the loop stopping), with a reset when bytes were
 *       lost (a reset, an error, the pool exhausted), so that the far end cannot take a
 *       stream cut short for a complete one.</li>
 * </ul>
 * Loop-confined: every method runs on the loop thread of both connections.
 */
final class ProxySession implements ConnectionHandler {
    private final ProxyCounters counters;
    private final Connection downstream;
    /** The upstream connection once open; null while connecting and once closed. */
    private Connection upstream;

    ProxySession(ProxyCounters counters, Connection downstream) {
        this.counters = counters;
        this.downstream = downstream;
    }

    // ---------------------------------------------------------------- the upstream connection

    @Override
    public void onOpen(Connection up) {
        if (!downstream.isOpen()) {
            up.abort(); // the client left while the connect was under way
            return;
        }
        upstream = up;
        up.feedFrom(downstream);
        downstream.feedFrom(up);
        downstream.resumeReading();
    }

    @Override
    public void onData(Connection up, MemorySegment data) {
        downstream.write(data);
    }

    @Override
    public void onInputClosed(Connection up) {
        if (downstream.isOpen()) {
            downstream.shutdownOutput(); // the loop closes both once the client's side has ended too
        }
    }

    @Override
    public void onClose(Connection up, CloseReason reason) {
        upstream = null;
        endOther(downstream, reason);
    }

    @Override
    public void onConnectFailed(ConnectFailure failure) {
        if (failure.errno() == Errno.ECONNREFUSED) {
            counters.refused++;
        } else if (failure.timedOut()) {
            counters.timedOut++;
        } else {
            counters.failed++;
        }
        if (downstream.isOpen()) {
            downstream.reset();
        }
    }

    // ---------------------------------------------------------------- the downstream connection

    /** The client sent {@code data}; its reading is paused until the upstream connection is open. */
    void fromDownstream(MemorySegment data) {
        upstream.write(data);
    }

    /** The client ended its stream: the upstream connection gets a FIN after the bytes queued for it. */
    void downstreamInputClosed() {
        if (upstream != null) {
            upstream.shutdownOutput();
        }
    }

    /** The client's connection closed: the session is over, and the upstream connection ends with it. */
    void downstreamClosed(CloseReason reason) {
        counters.closed++;
        if (upstream != null) {
            endOther(upstream, reason);
        }
    }

    /** Ends {@code other} because its peer ended with {@code reason}: gracefully, or with a reset. */
    private void endOther(Connection other, CloseReason reason) {
        if (!other.isOpen()) {
            return;
        }
        if (clean(reason)) {
            other.close();
        } else {
            counters.resets++;
            other.reset();
        }
    }

    /**
     * Whether a connection that closed for {@code reason} lost no byte on its way: closed by
     * either end, idle or timed out, the loop stopping. Not a reset, an abort, an error, a
     * handler failure, an exhausted pool or a refused frame. (Comparisons rather than a switch,
     * whose mapping class would first be read from disk here, maybe out of descriptors.)
     */
    static boolean clean(CloseReason reason) {
        return reason == CloseReason.LOCAL || reason == CloseReason.PEER_CLOSED || reason == CloseReason.SHUTDOWN
                || reason == CloseReason.IDLE_TIMEOUT || reason == CloseReason.READ_TIMEOUT
                || reason == CloseReason.WRITE_TIMEOUT;
    }
}
