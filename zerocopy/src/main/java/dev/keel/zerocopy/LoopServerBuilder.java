package dev.keel.zerocopy;

import dev.keel.io.ConnectionHandler;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;

import java.net.InetAddress;
import java.util.Objects;

/**
 * The settings every server built on an {@link EventLoopGroup} shares — where it listens, its
 * loops, their CPUs, transport and {@link LoopOptions} — declared once for the file server's
 * and the proxy's builders, each of which adds its own. Checks each value as it is set.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class LoopServerBuilder<B extends LoopServerBuilder<B>> {
    private InetAddress host = InetAddress.getLoopbackAddress();
    private int port;
    private int loops = 1;
    /** null: the core plan; empty: unpinned. */
    private int[] cpus;
    private Transport transport = Transport.EPOLL;
    private LoopOptions options;

    /** A builder whose loops start with {@code defaultOptions}. */
    protected LoopServerBuilder(LoopOptions defaultOptions) {
        options = Objects.requireNonNull(defaultOptions, "defaultOptions");
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Address to listen on (default 127.0.0.1; {@code ::1}, {@code ::} and {@code 0.0.0.0} too). */
    public B host(InetAddress address) {
        host = Objects.requireNonNull(address, "host");
        return self();
    }

    /** Port to listen on (default 0: any free one). */
    public B port(int p) {
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port out of range 0-65535: " + p);
        }
        port = p;
        return self();
    }

    /** Event loops (default 1), each with its own SO_REUSEPORT listener. */
    public B loops(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("loops must be positive: " + n);
        }
        loops = n;
        return self();
    }

    /**
     * One CPU per loop, reserved while the server runs (default: the core plan around other
     * processes' reserved CPUs, see {@link EventLoopGroup.Builder#cpus}).
     */
    public B cpus(int... list) {
        if (list.length == 0) {
            throw new IllegalArgumentException("no CPUs given; use unpinned() for unpinned loops");
        }
        cpus = list.clone();
        return self();
    }

    /** Leaves the loops unpinned (and reserves no CPU). */
    public B unpinned() {
        cpus = new int[0];
        return self();
    }

    /** The transport of the loops (default epoll; see {@link EventLoopGroup.Builder#transport}). */
    public B transport(Transport t) {
        transport = Objects.requireNonNull(t, "transport");
        return self();
    }

    /** The loops' options: connections per loop, buffers, water marks, timeouts, io_uring settings. */
    public B options(LoopOptions loopOptions) {
        options = Objects.requireNonNull(loopOptions, "options");
        return self();
    }

    /** The loops' options as set. */
    protected final LoopOptions chosenOptions() {
        return options;
    }

    /** Loops as set. */
    protected final int loopCount() {
        return loops;
    }

    /** A group builder with every setting of this one, serving connections with {@code handler}. */
    protected final EventLoopGroup.Builder group(ConnectionHandler handler) {
        EventLoopGroup.Builder g = EventLoopGroup.builder().host(host).port(port).loops(loops).transport(transport)
                .options(options).handler(handler);
        if (cpus != null && cpus.length == 0) {
            g.unpinned();
        } else if (cpus != null) {
            g.cpus(cpus);
        }
        return g;
    }
}
