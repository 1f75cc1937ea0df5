package dev.keel.zerocopy.proxy;

import dev.keel.io.CloseReason;
import dev.keel.io.ConnectOptions;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.zerocopy.LoopServerBuilder;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A TCP proxy on io-core's loops: every connection accepted on its port is forwarded to one
 * upstream address, over an outbound connection the accepting loop opens itself
 * ({@link dev.keel.io.EventLoop#connect}), so both connections of a session live on one pinned
 * loop thread and no byte crosses threads. Either transport (epoll or io_uring); the loops'
 * buffers, water marks and idle timeout ({@link LoopOptions}) apply to both sides of every
 * session. What a session does, both ways: see {@link ProxySession}.
 *
 * <p>Bytes are forwarded through the loop's memory: read into the read buffer (epoll) or a
 * provided receive buffer (io_uring) and written to the other socket from there, queued in
 * the loop's pool buffers only while that socket is full (io_uring queues a whole receive
 * buffer without copying it). Nothing is allocated per message once warm. A session's
 * queues are bounded by the water marks: each side queues at most the high mark and what one
 * read adds before its source stops reading; the pool bounds them all (a write the pool
 * cannot hold resets that session).
 */
public final class TcpProxy implements AutoCloseable {
    private final EventLoopGroup group;
    private final InetSocketAddress upstream;
    private final ProxyCounters[] counters;

    private TcpProxy(EventLoopGroup group, InetSocketAddress upstream, ProxyCounters[] counters) {
        this.group = group;
        this.upstream = upstream;
        this.counters = counters;
    }

    /**
     * The proxy's default loop options, for {@link Builder#options} to start from: water marks
     * of 64 KiB and 256 KiB (a proxy's queues only bridge a full socket for a moment; the
     * sockets' kernel buffers hold the rest), and 512 buffers of 64 KiB per loop (32 MiB), room
     * for about a hundred directions held at the high mark at once.
     */
    public static LoopOptions.Builder loopOptions() {
        return LoopOptions.builder().waterMarks(64 * 1024, 256 * 1024)
                .buffers(new int[] {2 * 1024, 16 * 1024, 64 * 1024}, new int[] {1024, 256, 512});
    }

    /** A builder with the defaults; {@link Builder#upstream} must be set before {@link Builder#start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The loops: their stats, CPUs and transport (and for a metrics endpoint). */
    public EventLoopGroup group() {
        return group;
    }

    /** The address the proxy listens on. */
    public InetSocketAddress address() {
        return group.address();
    }

    /** The port the proxy listens on (the kernel's pick when the builder asked for 0). */
    public int port() {
        return group.port();
    }

    /** Where each accepted connection is forwarded. */
    public InetSocketAddress upstream() {
        return upstream;
    }

    /** The CPU of each loop (-1: unpinned). */
    public int[] cpus() {
        return group.cpus();
    }

    /** The transport of the loops. */
    public Transport transport() {
        return group.transport();
    }

    /** The sessions' counters of each loop, in loop order; any thread, without stopping a loop. */
    public List<ProxyStats> stats() {
        List<ProxyStats> all = new ArrayList<>(counters.length);
        for (ProxyCounters c : counters) {
            all.add(c.snapshot());
        }
        return all;
    }

    /** {@link #stats()} added up over the loops. */
    public ProxyStats totalStats() {
        return ProxyStats.total(stats());
    }

    /**
     * Stops accepting, lets queued bytes drain for the loops' shutdown drain time, closes every
     * session and joins the loops (see {@link EventLoopGroup#close()}).
     */
    @Override
    public void close() {
        group.close();
    }

    /** Settings of a proxy; {@link #start()} binds and starts its loops. */
    public static final class Builder extends LoopServerBuilder<Builder> {
        private InetSocketAddress upstream;
        private ConnectOptions connect = ConnectOptions.defaults();

        private Builder() {
            super(TcpProxy.loopOptions().build());
        }

        /**
         * The loops' options (default {@link TcpProxy#loopOptions()}): connections per loop (two
         * per session), buffers and water marks, idle timeout, io_uring settings. With io_uring's
         * direct descriptors a reset passed on is a plain close (there is no descriptor to set
         * SO_LINGER on), so the default leaves them off.
         */
        @Override
        public Builder options(LoopOptions loopOptions) {
            return super.options(loopOptions);
        }

        /** Where to forward every connection (required; a resolved address). */
        public Builder upstream(InetSocketAddress address) {
            Objects.requireNonNull(address, "upstream");
            if (address.isUnresolved()) {
                throw new IllegalArgumentException("unresolved upstream " + address.getHostString()
                        + ": resolve it before starting the proxy");
            }
            upstream = address;
            return this;
        }

        /**
         * How the upstream connections are made (default {@link ConnectOptions#defaults()}: a
         * 10 s connect timeout, TCP_NODELAY).
         */
        public Builder connectOptions(ConnectOptions o) {
            connect = Objects.requireNonNull(o);
            return this;
        }

        /** {@link #connectOptions} with this connect timeout and the other defaults. */
        public Builder connectTimeout(Duration timeout) {
            return connectOptions(ConnectOptions.builder().timeout(timeout).build());
        }

        /**
         * Binds the port and starts the loops; returns once they run. A port in use fails with
         * {@code bind: EADDRINUSE}; nothing is left open after a failure.
         */
        public TcpProxy start() {
            Objects.requireNonNull(upstream, "upstream");
            // Read now what a session's first event needs, not when descriptors may have run out.
            ProxySession.clean(CloseReason.LOCAL);
            ProxyCounters[] counters = new ProxyCounters[loopCount()];
            for (int i = 0; i < counters.length; i++) {
                counters[i] = new ProxyCounters(i);
            }
            return new TcpProxy(group(new ProxyHandler(upstream, connect, counters)).start(), upstream, counters);
        }
    }
}
