package dev.keel.io;

import dev.keel.io.listen.ReusePortListeners;
import dev.keel.io.stats.LoopStatsSnapshot;
import dev.keel.io.uring.IoUringSupport;
import dev.keel.affinity.Affinity;
import dev.keel.affinity.CorePlan;
import dev.keel.affinity.CpuHolder;
import dev.keel.affinity.CpuReservations;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.ReservedPlan;
import dev.keel.ffm.Files;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;


/**
 * N event loops serving one TCP port. Each loop has its own listening socket bound with
 * SO_REUSEPORT, so the kernel spreads new connections over the loops with no hand-off between
 * threads; each loop is pinned by its own thread to the CPU its placement names. All loops of
 * a group run on one {@link Transport}.
 *
 * <p>The CPUs of the loops are reserved in {@link CpuReservations#shared()} while the group
 * runs (unless {@link Builder#noReservations()}), so a second keel process on the machine plans
 * around them rather than pinning its loops to the same cores; see {@link #plannedAround()}.
 */
public final class EventLoopGroup implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.keel.io");
    private final List<EventLoop> loops;
    private final InetSocketAddress address;
    private final Duration closeTimeout;
    private final Transport transport;
    private final Placement placement;
    private final java.util.concurrent.atomic.AtomicInteger nextLoop = new java.util.concurrent.atomic.AtomicInteger();
    private boolean closed;

    private EventLoopGroup(List<EventLoop> loops, InetSocketAddress address, Duration closeTimeout,
                           Transport transport, Placement placement) {
        this.loops = loops;
        this.address = address;
        this.closeTimeout = closeTimeout;
        this.transport = transport;
        this.placement = placement;
    }

    /** A builder with the defaults (one loop, port 0, default {@link LoopOptions}); allocates only the builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The address the loops listen on (with the real port when 0 was asked).
     *
     * @throws IllegalStateException for a group made {@link Builder#withoutListener() without a listener}
     */
    public InetSocketAddress address() {
        if (address == null) {
            throw new IllegalStateException("this group does not listen: it was built withoutListener()");
        }
        return address;
    }

    /** The port the loops listen on (the one the kernel picked when the builder asked for 0). */
    public int port() {
        return address().getPort();
    }

    /** Whether the loops listen for connections (false for a group built {@link Builder#withoutListener()}). */
    public boolean listening() {
        return address != null;
    }

    /**
     * Opens an outbound connection on the next loop in turn (round-robin); see
     * {@link EventLoop#connect}. Returns the loop it runs on.
     */
    public EventLoop connect(InetSocketAddress remote, ConnectionHandler handler, ConnectOptions options) {
        EventLoop loop = loops.get(Math.floorMod(nextLoop.getAndIncrement(), loops.size()));
        loop.connect(remote, handler, options);
        return loop;
    }

    /**
     * Opens an outbound connection on the loop {@code key} picks ({@code key} modulo the number
     * of loops): connections with one key share a loop, and so a thread, with no hand-off
     * between them. Returns that loop.
     */
    public EventLoop connect(long key, InetSocketAddress remote, ConnectionHandler handler, ConnectOptions options) {
        EventLoop loop = loops.get((int) Math.floorMod(key, (long) loops.size()));
        loop.connect(remote, handler, options);
        return loop;
    }

    /** The group's loops, in loop-index order (an unmodifiable list). */
    public List<EventLoop> loops() {
        return loops;
    }

    /** The transport the loops run on: {@link Transport#EPOLL} or {@link Transport#IO_URING}, never AUTO. */
    public Transport transport() {
        return transport;
    }

    /** The CPU each loop runs on (-1 for an unpinned loop), in loop order. */
    public int[] cpus() {
        return loops.stream().mapToInt(EventLoop::cpu).toArray();
    }

    /**
     * The counters of each loop, in loop order: read from any thread without stopping or
     * waking a loop (each value read opaquely, see {@link LoopStats}).
     */
    public List<LoopStatsSnapshot> stats() {
        return loops.stream().map(loop -> loop.stats().snapshot()).toList();
    }

    /**
     * The CPUs other holders had reserved when the default plan was made, which it left out
     * (empty with explicit CPUs, or without reservations).
     */
    public List<CpuHolder> plannedAround() {
        return placement.reserved == null ? List.of() : placement.reserved.plannedAround();
    }

    /** Explicit CPUs ({@link Builder#cpus}) that another holder had reserved: the loops run there anyway. */
    public List<CpuHolder> contested() {
        return placement.reserved == null ? List.of() : placement.reserved.contested();
    }

    /** Why the loops run unpinned when the default plan could not place them, else empty. */
    public java.util.Optional<String> unpinnedBecause() {
        return java.util.Optional.ofNullable(placement.unpinnedBecause);
    }

    /** The counters of every loop added up (histograms bucket by bucket). */
    public LoopStatsSnapshot totalStats() {
        return LoopStatsSnapshot.total(stats());
    }

    /**
     * Opens one UDP endpoint per loop on {@code local}, all on one port by SO_REUSEPORT (the
     * kernel spreads senders over them by their address hash); port 0 picks a free port for
     * the first loop and the others join it. {@code handlers} gives each loop's handler by its
     * index. Waits until all are open; on a failure closes those opened and throws.
     */
    public List<DatagramEndpoint> openDatagrams(InetSocketAddress local, DatagramOptions options,
                                                java.util.function.IntFunction<DatagramHandler> handlers) {
        if (loops.size() > 1 && !options.reusePort) {
            throw new IllegalArgumentException("more than one loop shares a port only with reusePort");
        }
        List<DatagramEndpoint> opened = new ArrayList<>();
        InetSocketAddress at = local;
        try {
            for (EventLoop loop : loops) {
                DatagramEndpoint e = loop.openDatagramAsync(at, options, handlers.apply(loop.index())).join();
                opened.add(e);
                at = new InetSocketAddress(local.getAddress(), e.localPort());
            }
            return List.copyOf(opened);
        } catch (java.util.concurrent.CompletionException e) {
            for (DatagramEndpoint d : opened) {
                d.loop().execute(d::close);
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
    }

    /**
     * Stops accepting, lets pending output drain until the drain deadline, closes every
     * connection, frees all off-heap memory and joins the loop threads.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (EventLoop loop : loops) {
            loop.requestShutdown();
        }
        boolean interrupted = false;
        for (EventLoop loop : loops) {
            try {
                if (!loop.awaitTermination(closeTimeout)) {
                    throw new IllegalStateException("event loop " + loop.index() + " did not stop within " + closeTimeout);
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        placement.release(); // not reached when a loop would not stop: it still runs on its CPU
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Where the loops run: their CPUs (none: unpinned), the reservation held on them, why unpinned. */
    private record Placement(int[] cpus, ReservedPlan reserved, String unpinnedBecause) {
        void release() {
            if (reserved != null) {
                reserved.close();
            }
        }
    }

    /** Settings of a group; {@link #start()} binds and starts it. */
    public static final class Builder {
        private int loops = 1;
        private int[] cpus;
        private InetAddress host = InetAddress.getLoopbackAddress();
        private int port;
        private LoopOptions options = LoopOptions.defaults();
        private ConnectionHandler handler;
        private CpuPinner pinner = Affinity::pinCurrentThread;
        private Transport transport = Transport.EPOLL;
        private boolean reserve = true;
        private boolean listen = true;
        private CpuReservations reservations;

        private Builder() {
        }

        /**
         * The kernel interface of the loops (default {@link Transport#EPOLL}). {@link Transport#AUTO}
         * takes io_uring when this process may use it and falls back to epoll with one log line
         * saying why; {@link Transport#IO_URING} refuses to start where io_uring cannot run.
         */
        public Builder transport(Transport t) {
            transport = Objects.requireNonNull(t);
            return this;
        }

        /** Number of loops (default 1). */
        public Builder loops(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("loops must be positive: " + n);
            }
            loops = n;
            return this;
        }

        /**
         * CPUs for the loops, one each in order. By default the affinity module's
         * {@link CorePlan} picks them (whole cores first, isolated CPUs first, one NUMA node
         * first) around the CPUs other processes have reserved; when it cannot (more loops than
         * usable, unreserved CPUs) the loops run unpinned and {@link #unpinnedBecause()} says why.
         * CPUs given here win over reservations: those free are reserved, those held are used
         * anyway and listed by {@link #contested()}.
         */
        public Builder cpus(int... list) {
            if (list.length == 0) {
                throw new IllegalArgumentException("no CPUs given; use unpinned() for unpinned loops");
            }
            cpus = list.clone();
            return this;
        }

        /** Leaves the loops unpinned: the scheduler places them. */
        public Builder unpinned() {
            cpus = new int[0];
            return this;
        }

        /** Address to bind (default 127.0.0.1). */
        public Builder host(InetAddress address) {
            host = Objects.requireNonNull(address);
            return this;
        }

        /** Port to listen on; 0 (default) picks a free one. */
        public Builder port(int p) {
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("port out of range 0-65535: " + p);
            }
            port = p;
            return this;
        }

        /** Sizes and timeouts of every loop (default {@link LoopOptions#defaults()}). */
        public Builder options(LoopOptions o) {
            options = Objects.requireNonNull(o);
            return this;
        }

        /**
         * The loops open no listening socket: a group that only connects out
         * ({@link EventLoopGroup#connect}); it needs no {@link #handler}, each connect names its own.
         */
        public Builder withoutListener() {
            listen = false;
            return this;
        }

        /**
         * The handler every loop calls, on its own thread, for each accepted connection's events
         * (required unless {@link #withoutListener()}). Shared by all loops, so it must hold no
         * unsynchronised state of its own beyond what it keeps per connection.
         */
        public Builder handler(ConnectionHandler h) {
            handler = Objects.requireNonNull(h);
            return this;
        }

        /**
         * Where the loops' CPUs are reserved (default {@link CpuReservations#shared()}, whose
         * directory is {@code -Dkeel.cpu.lockdir} or {@code KEEL_CPU_LOCKDIR}).
         */
        public Builder reservations(CpuReservations r) {
            reservations = Objects.requireNonNull(r);
            reserve = true;
            return this;
        }

        /** Neither reserves the loops' CPUs nor plans around others' reservations. */
        public Builder noReservations() {
            reserve = false;
            reservations = null;
            return this;
        }

        /** How loops pin themselves to their CPUs (default: {@link Affinity#pinCurrentThread(int)}). */
        public Builder pinner(CpuPinner p) {
            pinner = Objects.requireNonNull(p);
            return this;
        }

        /**
         * Binds the port, starts the loops and returns once all of them run. A port in use
         * fails with {@code bind: EADDRINUSE}; nothing is left open after a failure.
         */
        public EventLoopGroup start() {
            if (listen) {
                Objects.requireNonNull(handler, "handler");
            }
            if (this.cpus != null && this.cpus.length != 0 && this.cpus.length != loops) {
                throw new IllegalArgumentException("placement names " + this.cpus.length + " CPUs for " + loops
                        + " loops: " + Arrays.toString(this.cpus));
            }
            Transport resolved = resolve(transport);
            Placement placement = place();
            int[] cpus = placement.cpus;
            int[] listeners;
            try {
                listeners = listen ? ReusePortListeners.open(host, port, loops, options.backlog) : none(loops);
            } catch (RuntimeException e) {
                placement.release();
                throw e;
            }
            InetSocketAddress bound = listen ? new InetSocketAddress(host, ReusePortListeners.port(listeners[0])) : null;
            List<EventLoop> started = new ArrayList<>();
            try {
                for (int i = 0; i < loops; i++) {
                    EventLoop loop = new EventLoop(i, resolved, options, handler, listeners[i],
                            cpus.length == 0 ? -1 : cpus[i], pinner);
                    // From here the loop owns its listener, closing it when it stops.
                    listeners[i] = -1;
                    started.add(loop);
                    loop.start();
                }
                Duration timeout = Duration.ofNanos(options.shutdownDrainNanos).plusSeconds(10);
                return new EventLoopGroup(List.copyOf(started), bound, timeout, resolved, placement);
            } catch (RuntimeException | InterruptedException e) {
                for (int fd : listeners) {
                    if (fd >= 0) {
                        Files.close(fd);
                    }
                }
                for (EventLoop loop : started) {
                    loop.requestShutdown();
                    try {
                        loop.awaitTermination(Duration.ofSeconds(10));
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }
                placement.release();
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting loops", e);
                }
                throw (RuntimeException) e;
            }
        }

        private static int[] none(int count) {
            int[] fds = new int[count];
            Arrays.fill(fds, -1);
            return fds;
        }

        /**
         * The loops' CPUs: those given, else the core plan (around others' reservations), each
         * reserved unless reservations are off. A plan that cannot be made leaves the loops
         * unpinned, with the reason kept and logged.
         */
        private Placement place() {
            if (cpus != null && cpus.length == 0) {
                return new Placement(cpus, null, null);
            }
            CpuReservations r = reserve ? reservationsOrNone() : null;
            if (cpus != null) {
                return r == null ? new Placement(cpus.clone(), null, null)
                        : new Placement(cpus.clone(), ReservedPlan.explicit(r, cpus), null);
            }
            try {
                if (r == null) {
                    return new Placement(CorePlan.forLoops(loops).cpus(), null, null);
                }
                ReservedPlan plan = ReservedPlan.plan(CpuTopology.system(), r, loops);
                return new Placement(plan.cpus(), plan, null);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "keel: " + loops + " loops run unpinned: " + e.getMessage());
                return new Placement(new int[0], null, e.getMessage());
            }
        }

        /** The configured reservations, or none (with a log line) when their directory cannot be made. */
        private CpuReservations reservationsOrNone() {
            if (reservations != null) {
                return reservations;
            }
            try {
                return CpuReservations.shared();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.INFO, "keel: CPUs not reserved: " + e.getMessage());
                return null;
            }
        }

        /** EPOLL or IO_URING for {@code asked}: AUTO probes io_uring and falls back with one log line. */
        private static Transport resolve(Transport asked) {
            if (asked == Transport.EPOLL) {
                return asked;
            }
            IoUringSupport support = IoUringSupport.probe();
            if (support.usable()) {
                return Transport.IO_URING;
            }
            if (asked == Transport.IO_URING) {
                throw new IllegalStateException("the io_uring transport cannot run here: " + support.reason());
            }
            LOG.log(System.Logger.Level.INFO, "keel: transport auto: serving over epoll, io_uring is unusable: "
                    + support.reason());
            return Transport.EPOLL;
        }
    }
}
