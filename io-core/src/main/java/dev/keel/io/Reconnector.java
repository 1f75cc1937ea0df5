package dev.keel.io;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Keeps one long-lived outbound connection up: connects on its loop, and whenever the connect
 * fails or the open connection closes, connects again after a back-off that doubles from
 * {@code initial} up to {@code max} and starts over once a connection opened. The
 * application's handler sees every connection as usual (each {@code onOpen}, {@code onClose}
 * and {@code onConnectFailed}); this class only decides when to try again. The retry is one
 * timer on the loop's wheel (its handle kept, so {@link #stop} cancels exactly it), and
 * reconnecting allocates nothing beyond what a connect does.
 */
public final class Reconnector extends ForwardingHandler {
    private final EventLoop loop;
    private final InetSocketAddress remote;
    private final ConnectOptions options;
    private final long initialNanos;
    private final long maxNanos;
    private final Runnable attempt = this::attempt;
    // Loop-thread state.
    private long backoffNanos;
    private long retryTimer = -1;
    private Connection current;
    private long attempts;
    private volatile boolean stopped;

    private Reconnector(EventLoop loop, InetSocketAddress remote, ConnectOptions options, ConnectionHandler handler,
                        Duration initial, Duration max) {
        super(handler);
        this.loop = Objects.requireNonNull(loop, "loop");
        this.remote = Objects.requireNonNull(remote, "remote");
        this.options = Objects.requireNonNull(options, "options");
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("back-off must be positive and initial <= max: " + initial + ", " + max);
        }
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.backoffNanos = initialNanos;
    }

    /**
     * Starts keeping a connection to {@code remote} up on {@code loop}, serving it with
     * {@code handler}; the first connect starts at once. Callable from any thread.
     */
    public static Reconnector start(EventLoop loop, InetSocketAddress remote, ConnectOptions options,
                                    ConnectionHandler handler, Duration initialBackoff, Duration maxBackoff) {
        Reconnector r = new Reconnector(loop, remote, options, handler, initialBackoff, maxBackoff);
        loop.execute(r.attempt);
        return r;
    }

    /** Stops reconnecting and closes the connection if one is open; callable from any thread. */
    public void stop() {
        stopped = true;
        loop.execute(() -> {
            if (retryTimer >= 0) {
                loop.cancelTimer(retryTimer);
                retryTimer = -1;
            }
            if (current != null && current.isOpen()) {
                current.close();
            }
        });
    }

    /** Connects made so far (loop thread, or after {@link #stop} took effect). */
    public long attempts() {
        return attempts;
    }

    /** The back-off the next failure or close will wait before its retry (loop thread). */
    public Duration backoff() {
        return Duration.ofNanos(backoffNanos);
    }

    private void attempt() {
        retryTimer = -1;
        if (!stopped) {
            attempts++;
            loop.connect(remote, this, options);
        }
    }

    private void retryLater() {
        if (stopped) {
            return;
        }
        retryTimer = loop.schedule(Duration.ofNanos(backoffNanos), attempt);
        backoffNanos = Math.min(maxNanos, backoffNanos * 2);
    }

    @Override
    public void onOpen(Connection connection) {
        current = connection;
        backoffNanos = initialNanos;
        if (stopped) {
            connection.close();
        }
        super.onOpen(connection);
    }

    @Override
    public void onClose(Connection connection, CloseReason reason) {
        current = null;
        try {
            super.onClose(connection, reason);
        } finally {
            retryLater();
        }
    }

    @Override
    public void onConnectFailed(ConnectFailure failure) {
        try {
            super.onConnectFailed(failure);
        } finally {
            retryLater();
        }
    }
}
