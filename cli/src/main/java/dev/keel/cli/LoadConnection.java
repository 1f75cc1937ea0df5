package dev.keel.cli;

import dev.keel.io.CloseReason;
import dev.keel.io.ConnectFailure;
import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;

import java.lang.foreign.MemorySegment;

/**
 * One connection of {@code keel load}: keeps {@code depth} echo requests of {@code size} bytes
 * in flight, checks every byte that comes back against the pattern it sent, and records each
 * request's latency in its loop's histogram. Closed loop by default (a request goes out as
 * soon as an answer came back, latency from its actual send); at a fixed rate, requests are
 * due on a schedule and latency counts from when each was due, so a stalled server is charged
 * for the requests it kept from being sent (coordinated omission). Runs on its loop thread and
 * allocates nothing per request.
 */
final class LoadConnection implements ConnectionHandler, LoadFlow {
    private final LoadPattern pattern;
    private final LoadLoop stats;
    private final int id;
    private final int size;
    private final int depth;
    /** When each request in flight was sent (closed loop) or due (fixed rate), by sequence modulo depth. */
    private final long[] startedAt;
    /** Fixed rate: nanoseconds between requests of this connection; 0 for a closed loop. */
    private final long intervalNanos;
    private Connection connection;
    private long sent;
    private long answered;
    /** Bytes received and checked so far. */
    private long received;
    private long nextDue;
    private final long firstDueOffset;
    private boolean stopping;

    /**
     * @param intervalNanos  between this connection's requests at a fixed rate; 0 for a closed loop
     * @param firstDueOffset at a fixed rate, when its first request is due after the start (the
     *                       connections' schedules are spread over one interval)
     */
    LoadConnection(LoadPattern pattern, LoadLoop stats, int id, int size, int depth, long intervalNanos,
                   long firstDueOffset) {
        this.pattern = pattern;
        this.stats = stats;
        this.id = id;
        this.size = size;
        this.depth = depth;
        this.startedAt = new long[depth];
        this.intervalNanos = intervalNanos;
        this.firstDueOffset = firstDueOffset;
    }

    @Override
    public void onOpen(Connection c) {
        connection = c;
        stats.opened(this);
    }

    /** The run starts at {@code startNanos}: a closed loop sends its first {@code depth} requests. */
    @Override
    public void start(long startNanos) {
        if (intervalNanos == 0) {
            for (int i = 0; i < depth; i++) {
                send(System.nanoTime());
            }
        } else {
            nextDue = startNanos + firstDueOffset;
            pace(System.nanoTime());
        }
    }

    /** Fixed rate: sends what is due at {@code now}, as far as the depth allows (the rest waits, its clock running). */
    @Override
    public void pace(long now) {
        while (!stopping && connection != null && nextDue - now <= 0 && sent - answered < depth) {
            send(nextDue);
            nextDue += intervalNanos;
        }
    }

    private void send(long startNanos) {
        startedAt[(int) (sent % depth)] = startNanos;
        connection.write(pattern.message(id, sent));
        sent++;
    }

    @Override
    public void onData(Connection c, MemorySegment data) {
        long n = data.byteSize();
        if (received + n > sent * size || !pattern.matches(id, received, data)) {
            stats.failed("connection " + id + ": the echo of bytes " + received + "-" + (received + n)
                    + " is not what was sent");
            c.abort();
            return;
        }
        long before = received / size;
        received += n;
        long complete = received / size;
        stats.bytesChecked(n);
        if (complete > before) {
            long now = System.nanoTime();
            for (long k = before; k < complete; k++) {
                stats.record(now - startedAt[(int) (k % depth)]);
                answered++;
                if (intervalNanos == 0 && !stopping) {
                    send(now);
                }
            }
            if (intervalNanos != 0) {
                pace(now);
            }
        }
        if (stopping && answered == sent) {
            c.close();
        }
    }

    /** The run is over: no new request; the connection closes once its answers are in. */
    @Override
    public void stop() {
        stopping = true;
        if (connection != null && connection.isOpen() && answered == sent) {
            connection.close();
        }
    }

    @Override
    public void onClose(Connection c, CloseReason reason) {
        if (!stopping) {
            stats.failed("connection " + id + " closed during the run: " + reason);
        }
        stats.closed(this);
    }

    @Override
    public void onConnectFailed(ConnectFailure failure) {
        stats.connectFailed(failure.toString());
    }
}
