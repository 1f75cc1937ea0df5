package dev.keel.zerocopy.proxy;

import dev.keel.affinity.Affinity;
import dev.keel.ffm.Files;
import dev.keel.io.CpuPinner;
import dev.keel.io.listen.ReusePortListeners;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A TCP proxy whose payload never enters Java: each accepted connection gets a connection to
 * the target, and bytes go socket -> pipe -> socket with splice(2) in both directions, with
 * back-pressure both ways and half-closes passed through (see {@link SpliceDirection}).
 *
 * <p>It runs its own small epoll loops ({@link ProxyLoop}) on the FFM bindings rather than on
 * io-core, whose loops accept connections but do not open them: the outbound socket has to be
 * created, connected and watched by the same thread as its client. Each loop has its own
 * SO_REUSEPORT listener, as io-core's do.
 */
public final class SpliceProxy implements AutoCloseable {
    private final List<ProxyLoop> loops;
    private final InetSocketAddress address;
    private final InetSocketAddress target;
    private final int[] cpus;
    private boolean closed;

    private SpliceProxy(List<ProxyLoop> loops, InetSocketAddress address, InetSocketAddress target, int[] cpus) {
        this.loops = loops;
        this.address = address;
        this.target = target;
        this.cpus = cpus;
    }

    /** A builder with the defaults; {@link Builder#target} must be set before {@link Builder#start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The address the proxy listens on. */
    public InetSocketAddress address() {
        return address;
    }

    /** The port the proxy listens on (the kernel's pick when the builder asked for 0). */
    public int port() {
        return address.getPort();
    }

    /** The address each accepted connection is proxied to. */
    public InetSocketAddress target() {
        return target;
    }

    /** The CPU each loop is pinned to (-1: unpinned), in loop order. */
    public int[] cpus() {
        return cpus.clone();
    }

    /** Proxied connections open now, over all loops. */
    public int openSessions() {
        int n = 0;
        for (ProxyLoop l : loops) {
            n += l.openSessions();
        }
        return n;
    }

    /** Stops the loops, resetting open sessions, and closes every descriptor. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean interrupted = false;
        for (ProxyLoop l : loops) {
            try {
                l.stop();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Settings; {@link #start()} binds and starts. */
    public static final class Builder {
        private InetAddress host = InetAddress.getLoopbackAddress();
        private int port;
        private InetSocketAddress target;
        private int loops = 1;
        private int maxSessions = 4096;
        private int pipeSize;
        private int[] cpus = new int[0];
        private CpuPinner pinner = Affinity::pinCurrentThread;

        private Builder() {
        }

        /** Address to listen on (default 127.0.0.1). */
        public Builder host(InetAddress a) {
            host = Objects.requireNonNull(a);
            return this;
        }

        /** Port to listen on (default 0: any free one). */
        public Builder port(int p) {
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("port out of range 0-65535: " + p);
            }
            port = p;
            return this;
        }

        /** Where to forward to (required, resolved). */
        public Builder target(InetSocketAddress t) {
            if (t.isUnresolved()) {
                throw new IllegalArgumentException("cannot resolve " + t.getHostString());
            }
            target = t;
            return this;
        }

        /** Loops, each a thread with its own listener (default 1). */
        public Builder loops(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("loops must be positive: " + n);
            }
            loops = n;
            return this;
        }

        /** Sessions per loop at most (default 4096); more are closed at accept. */
        public Builder maxSessions(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("max sessions must be positive: " + n);
            }
            maxSessions = n;
            return this;
        }

        /** Capacity of each direction's pipe (default 0: the kernel's 64 KiB). */
        public Builder pipeSize(int bytes) {
            pipeSize = bytes;
            return this;
        }

        /**
         * One CPU per loop, each loop's thread pinned to its own (default: none, the loops run
         * unpinned). Choosing and reserving them is the caller's: see the affinity module's
         * {@code ReservedPlan}.
         */
        public Builder cpus(int... list) {
            cpus = list.clone();
            return this;
        }

        /** How loops pin themselves (default {@link Affinity#pinCurrentThread(int)}). */
        public Builder pinner(CpuPinner p) {
            pinner = Objects.requireNonNull(p);
            return this;
        }

        /**
         * Opens one SO_REUSEPORT listener per loop and starts the loops, each on a thread of its
         * own (pinned when CPUs were given); returns once they run. On a failure, closes what it
         * opened and throws; blocks only while loops start.
         */
        public SpliceProxy start() {
            Objects.requireNonNull(target, "target");
            if (cpus.length != 0 && cpus.length != loops) {
                throw new IllegalArgumentException(cpus.length + " CPUs for " + loops + " proxy loops: give one per loop");
            }
            List<ProxyLoop> started = new ArrayList<>();
            int[] listeners = ReusePortListeners.open(host, port, loops, 1024);
            int actualPort = ReusePortListeners.port(listeners[0]);
            try {
                for (int i = 0; i < loops; i++) {
                    ProxyLoop loop = new ProxyLoop(i, listeners[i], target, maxSessions, pipeSize,
                            cpus.length == 0 ? -1 : cpus[i], pinner);
                    listeners[i] = -1; // the loop owns it now
                    started.add(loop);
                    loop.start();
                }
                int[] placed = cpus.length == 0 ? new int[loops] : cpus.clone();
                if (cpus.length == 0) {
                    java.util.Arrays.fill(placed, -1);
                }
                return new SpliceProxy(List.copyOf(started), new InetSocketAddress(host, actualPort), target, placed);
            } catch (RuntimeException | InterruptedException e) {
                for (int fd : listeners) {
                    if (fd >= 0) {
                        Files.close(fd);
                    }
                }
                for (ProxyLoop l : started) {
                    try {
                        l.stop();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting the proxy", e);
                }
                throw (RuntimeException) e;
            }
        }
    }
}
