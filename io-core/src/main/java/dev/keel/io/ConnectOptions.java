package dev.keel.io;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one outbound connection ({@link EventLoop#connect}): how long the connect may take,
 * the local address to bind, and the socket options set before connect(2). Immutable; made
 * with {@link #builder()}. The loop's {@link LoopOptions} (buffers, water marks, idle timeout)
 * apply to outbound connections as to accepted ones.
 */
public final class ConnectOptions {
    private static final ConnectOptions DEFAULTS = builder().build();

    final long timeoutNanos;
    final InetSocketAddress localAddress;
    final boolean tcpNoDelay;
    final boolean keepAlive;
    final int keepIdleSeconds;
    final int keepIntervalSeconds;
    final int keepCount;
    final int receiveBuffer;
    final int sendBuffer;

    private ConnectOptions(Builder b) {
        timeoutNanos = b.timeoutNanos;
        localAddress = b.localAddress;
        tcpNoDelay = b.tcpNoDelay;
        keepAlive = b.keepAlive;
        keepIdleSeconds = b.keepIdleSeconds;
        keepIntervalSeconds = b.keepIntervalSeconds;
        keepCount = b.keepCount;
        receiveBuffer = b.receiveBuffer;
        sendBuffer = b.sendBuffer;
    }

    /** A builder with the defaults (no timeout, TCP_NODELAY on, no keep-alive); any thread. */
    public static Builder builder() {
        return new Builder();
    }

    /** A 10 s timeout, TCP_NODELAY on, no keep-alive, no local address. */
    public static ConnectOptions defaults() {
        return DEFAULTS;
    }

    /** The connect timeout. */
    public Duration timeout() {
        return Duration.ofNanos(timeoutNanos);
    }

    /** The local address bound before connecting, or null for the kernel's choice. */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** Builder with the defaults documented on each setter. */
    public static final class Builder {
        private long timeoutNanos = Duration.ofSeconds(10).toNanos();
        private InetSocketAddress localAddress;
        private boolean tcpNoDelay = true;
        private boolean keepAlive;
        private int keepIdleSeconds;
        private int keepIntervalSeconds;
        private int keepCount;
        private int receiveBuffer;
        private int sendBuffer;

        private Builder() {
        }

        /**
         * How long the connect may take (default 10 s), measured on the loop's timing wheel, so
         * it ends at the first tick at or after it. The handler then hears
         * {@link ConnectionHandler#onConnectFailed} with {@link ConnectFailure#timedOut()}.
         */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("connect timeout must be positive: " + timeout);
            }
            timeoutNanos = timeout.toNanos();
            return this;
        }

        /**
         * Binds the socket to {@code local} before connecting (port 0: any port on that
         * address). It must be of the remote address's family.
         */
        public Builder localAddress(InetSocketAddress local) {
            Objects.requireNonNull(local, "local");
            if (local.isUnresolved()) {
                throw new IllegalArgumentException("unresolved local address: " + local);
            }
            localAddress = local;
            return this;
        }

        /** TCP_NODELAY (default on): a request is sent at once, not held back for Nagle's algorithm. */
        public Builder tcpNoDelay(boolean on) {
            tcpNoDelay = on;
            return this;
        }

        /**
         * Turns SO_KEEPALIVE on with its probes: the first after {@code idle} without traffic,
         * then every {@code interval}, the connection dropped (ETIMEDOUT) after {@code count}
         * unanswered ones (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, whole seconds).
         */
        public Builder keepAlive(Duration idle, Duration interval, int count) {
            keepIdleSeconds = seconds("idle", idle);
            keepIntervalSeconds = seconds("interval", interval);
            if (count <= 0 || count > 127) {
                throw new IllegalArgumentException("keep-alive count must be in 1-127 (TCP_KEEPCNT): " + count);
            }
            keepCount = count;
            keepAlive = true;
            return this;
        }

        /** SO_RCVBUF and SO_SNDBUF (0 keeps the kernel's default and its auto-tuning). */
        public Builder socketBuffers(int receive, int send) {
            if (receive < 0 || send < 0) {
                throw new IllegalArgumentException("socket buffer sizes must not be negative");
            }
            receiveBuffer = receive;
            sendBuffer = send;
            return this;
        }

        /** The immutable options; the builder may be used again. */
        public ConnectOptions build() {
            return new ConnectOptions(this);
        }

        private static int seconds(String what, Duration d) {
            long s = d.toSeconds();
            if (s < 1 || s > 32767) {
                throw new IllegalArgumentException("keep-alive " + what + " must be 1-32767 whole seconds: " + d);
            }
            return (int) s;
        }
    }
}
