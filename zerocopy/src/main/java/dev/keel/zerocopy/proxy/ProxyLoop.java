package dev.keel.zerocopy.proxy;

import dev.keel.io.pipe.Pipe;
import dev.keel.io.pipe.PipePool;
import dev.keel.ffm.Epoll;
import dev.keel.ffm.EventFd;
import dev.keel.ffm.Files;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.Splice;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.LinuxLayouts.Linger;
import dev.keel.io.CpuPinner;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.keel.ffm.gen.LinuxConstants.EFD_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EFD_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLERR;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLHUP;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLIN;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLOUT;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLRDHUP;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_ADD;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_DEL;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_MOD;
import static dev.keel.ffm.gen.LinuxConstants.IPPROTO_TCP;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_ERROR;
import static dev.keel.ffm.gen.LinuxConstants.SO_LINGER;
import static dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The proxy's own event loop: one thread, a level-triggered epoll set over its listener, a
 * wake-up eventfd and both sockets of each session. It exists because io-core's loops only
 * accept; a proxy also connects out, and the upstream socket must live on the same thread as
 * its client so that the two can be spliced into each other without any hand-off.
 *
 * <p>Epoll data of a session socket: {@code generation << 32 | id << 1 | side}, so an event for
 * a session closed earlier in the same batch is recognised and dropped even if its slot was
 * reused. An error, or a hang-up that leaves a direction unfinished, aborts the session with
 * SO_LINGER 0 on both sockets: the reset is passed through rather than hidden.
 */
final class ProxyLoop {
    private static final long WAKE = -1;
    private static final long LISTENER = -2;
    private static final int CLIENT = 0;
    private static final int UPSTREAM = 1;
    private static final int MAX_EVENTS = 256;
    private static final int ACCEPT_PAUSE_MILLIS = 100;
    /** Interest of a socket taken out of the epoll set. */
    private static final int UNWATCHED = -2;
    private static final MemorySegment WAKE_VALUE = Arena.global().allocate(JAVA_LONG);

    static {
        WAKE_VALUE.set(JAVA_LONG, 0, 1L);
    }

    private final int index;
    private final int listenFd;
    private final InetSocketAddress target;
    private final ProxySession[] sessions;
    private final PipePool pipes;
    private final Thread thread;
    private final int cpu;
    private final CpuPinner pinner;
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean stopping;
    private volatile Throwable failure;
    /** Guarded by {@code this} once set: stop() must not write to it after tearDown() closed it. */
    private int wakeFd = -1;
    private int epfd = -1;
    private int freeHead;
    private int[] nextFree;
    private MemorySegment targetAddress;
    private int targetLength;
    private MemorySegment linger;
    private MemorySegment scratch;
    private long acceptResume;

    /** {@code cpu} -1 leaves the loop unpinned; else its thread pins itself there with {@code pinner} first thing. */
    ProxyLoop(int index, int listenFd, InetSocketAddress target, int maxSessions, int pipeSize, int cpu, CpuPinner pinner) {
        this.index = index;
        this.cpu = cpu;
        this.pinner = pinner;
        this.listenFd = listenFd;
        this.target = target;
        this.sessions = new ProxySession[maxSessions];
        this.pipes = new PipePool(pipeSize, Math.min(2 * maxSessions, 1024));
        this.thread = new Thread(this::run, "keel-proxy-" + index);
    }

    void start() throws InterruptedException {
        thread.start();
        started.await();
        if (failure != null) {
            stopped.await();
            throw new IllegalStateException("proxy loop " + index + " failed to start: " + failure, failure);
        }
    }

    /** Sessions open now. */
    int openSessions() {
        return open.get();
    }

    void stop() throws InterruptedException {
        stopping = true;
        synchronized (this) {
            if (wakeFd >= 0) {
                EventFd.write(wakeFd, WAKE_VALUE);
            }
        }
        stopped.await();
    }

    private void run() {
        Arena arena = Arena.ofConfined();
        try {
            try {
                if (cpu >= 0) {
                    pinner.pinCurrentThread(cpu);
                }
                setUp(arena);
            } catch (Throwable t) {
                failure = t;
                return;
            } finally {
                started.countDown();
            }
            MemorySegment events = arena.allocate(Epoll.eventArraySize(MAX_EVENTS), 8);
            while (!stopping) {
                int timeout = acceptResume == 0 ? -1 : ACCEPT_PAUSE_MILLIS;
                int n = Epoll.wait(epfd, events, MAX_EVENTS, timeout);
                for (int i = 0; i < n; i++) {
                    dispatch(Epoll.events(events, i), Epoll.data(events, i));
                }
                if (acceptResume != 0 && System.nanoTime() - acceptResume >= 0) {
                    acceptResume = 0;
                    Epoll.ctl(epfd, EPOLL_CTL_ADD, listenFd, EPOLLIN, LISTENER);
                }
            }
        } catch (Throwable t) {
            failure = t;
            System.getLogger("dev.keel.zerocopy").log(System.Logger.Level.ERROR, thread.getName() + " failed", t);
        } finally {
            try {
                tearDown();
            } finally {
                arena.close();
                stopped.countDown();
            }
        }
    }

    private void setUp(Arena arena) {
        loadErrorPaths();
        nextFree = new int[sessions.length];
        for (int i = 0; i < sessions.length; i++) {
            nextFree[i] = i + 1 < sessions.length ? i + 1 : -1;
        }
        targetAddress = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
        targetLength = SocketAddresses.write(target, targetAddress);
        linger = arena.allocate(Linger.SIZE, Linger.ALIGNMENT);
        linger.set(JAVA_INT, Linger.L_ONOFF, 1);
        linger.set(JAVA_INT, Linger.L_LINGER, 0);
        scratch = arena.allocate(JAVA_LONG);
        epfd = Epoll.create(EPOLL_CLOEXEC);
        int wake = EventFd.create(0, EFD_NONBLOCK | EFD_CLOEXEC);
        synchronized (this) {
            wakeFd = wake;
        }
        Epoll.ctl(epfd, EPOLL_CTL_ADD, wakeFd, EPOLLIN, WAKE);
        Epoll.ctl(epfd, EPOLL_CTL_ADD, listenFd, EPOLLIN, LISTENER);
    }

    /**
     * Reads now every class a session's failure needs: once the process is out of descriptors
     * (EMFILE: the very case a failing pipe2 or accept4 meets) a class cannot be read from disk,
     * and the loop would die of a NoClassDefFoundError instead of closing one client.
     */
    private static void loadErrorPaths() {
        SyscallException.loadErrorPath();
        for (Class<?> c : new Class<?>[] {ProxySession.class, SpliceDirection.class, Pipe.class, PipePool.class,
                Files.class, Sockets.class, Splice.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private void dispatch(int ready, long token) {
        if (token == WAKE) {
            EventFd.read(wakeFd, scratch);
            return;
        }
        if (token == LISTENER) {
            accept();
            return;
        }
        int id = (int) (token & 0xFFFF_FFFFL) >>> 1;
        int side = (int) (token & 1);
        ProxySession s = sessions[id];
        if (s == null || s.generation != (int) (token >>> 32) || s.client < 0) {
            return; // closed earlier in this batch
        }
        try {
            onEvent(s, side, ready);
        } catch (SyscallException e) {
            abort(s);
        }
    }

    private void accept() {
        for (int i = 0; i < 64; i++) {
            int fd;
            try {
                fd = Sockets.accept(listenFd, SOCK_NONBLOCK | SOCK_CLOEXEC);
            } catch (SyscallException e) {
                // EMFILE and friends: the listener stays readable, so stop watching it for a while.
                Epoll.ctl(epfd, EPOLL_CTL_DEL, listenFd, 0, 0);
                acceptResume = System.nanoTime() + ACCEPT_PAUSE_MILLIS * 1_000_000L;
                return;
            }
            if (fd < 0) {
                return;
            }
            open(fd);
        }
    }

    private void open(int clientFd) {
        int id = freeHead;
        if (id < 0) {
            Files.close(clientFd); // table full
            return;
        }
        freeHead = nextFree[id];
        ProxySession s = sessions[id];
        if (s == null) {
            s = new ProxySession(id);
            sessions[id] = s;
        }
        s.generation++;
        s.client = clientFd;
        s.upstream = -1;
        s.toUpstream = null;
        s.toClient = null;
        s.clientInterest = -1;
        s.upstreamInterest = -1;
        open.incrementAndGet();
        try {
            Sockets.setInt(clientFd, IPPROTO_TCP, TCP_NODELAY, 1);
            s.upstream = Sockets.socket(SocketAddresses.family(target), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            Sockets.setInt(s.upstream, IPPROTO_TCP, TCP_NODELAY, 1);
            int r = Sockets.connect(s.upstream, targetAddress, targetLength);
            s.connecting = r != 0;
            watch(s, CLIENT, 0, EPOLL_CTL_ADD);
            watch(s, UPSTREAM, s.connecting ? EPOLLOUT : 0, EPOLL_CTL_ADD);
            if (!s.connecting) {
                connected(s);
            }
        } catch (SyscallException e) {
            abort(s); // ECONNREFUSED and the like: the client sees a reset
        }
    }

    private void connected(ProxySession s) {
        s.connecting = false;
        Pipe first = null;
        Pipe second;
        try {
            first = pipes.acquire();
            second = pipes.acquire();
        } catch (SyscallException e) {
            // Out of descriptors (EMFILE) or memory for a pipe: this client is closed, the loop goes on.
            if (first != null) {
                pipes.release(first);
            }
            abort(s);
            return;
        }
        s.toUpstream = new SpliceDirection(s.client, s.upstream, first);
        s.toClient = new SpliceDirection(s.upstream, s.client, second);
        s.toUpstream.pump();
        s.toClient.pump();
        settle(s);
    }

    private void onEvent(ProxySession s, int side, int ready) {
        if (s.connecting) {
            if (side == CLIENT) {
                abort(s); // only a hang-up or an error is watched on the client meanwhile
            } else if (Sockets.getInt(s.upstream, SOL_SOCKET, SO_ERROR) != 0) {
                abort(s);
            } else {
                connected(s);
            }
            return;
        }
        if ((ready & EPOLLERR) != 0) {
            abort(s);
            return;
        }
        SpliceDirection from = side == CLIENT ? s.toUpstream : s.toClient;
        SpliceDirection into = side == CLIENT ? s.toClient : s.toUpstream;
        if ((ready & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0) {
            from.pump();
        }
        if ((ready & (EPOLLOUT | EPOLLHUP)) != 0) {
            into.pump();
        }
        if ((ready & EPOLLHUP) != 0) {
            if (!into.finished()) {
                abort(s); // the peer closed both ways while bytes were still due to it
                return;
            }
            if (!from.finished()) {
                // Its FIN is in and ours went out: what it sent is all queued and readable, and
                // is moved on as the other side takes it. Only its (constant) hang-up would be
                // left to report, which a level-triggered loop would spin on: stop watching it.
                unwatch(s, side);
            }
        }
        settle(s);
    }

    /** Closes a session whose two directions are done, or updates what is watched. */
    private void settle(ProxySession s) {
        if (s.finished()) {
            close(s, false);
            return;
        }
        int client = (s.toUpstream.wantsInput() ? EPOLLIN | EPOLLRDHUP : 0) | (s.toClient.wantsOutput() ? EPOLLOUT : 0);
        int upstream = (s.toClient.wantsInput() ? EPOLLIN | EPOLLRDHUP : 0) | (s.toUpstream.wantsOutput() ? EPOLLOUT : 0);
        if (s.clientInterest != UNWATCHED && client != s.clientInterest) {
            watch(s, CLIENT, client, EPOLL_CTL_MOD);
        }
        if (s.upstreamInterest != UNWATCHED && upstream != s.upstreamInterest) {
            watch(s, UPSTREAM, upstream, EPOLL_CTL_MOD);
        }
    }

    private void unwatch(ProxySession s, int side) {
        if (side == CLIENT && s.clientInterest != UNWATCHED) {
            Epoll.ctl(epfd, EPOLL_CTL_DEL, s.client, 0, 0);
            s.clientInterest = UNWATCHED;
        } else if (side == UPSTREAM && s.upstreamInterest != UNWATCHED) {
            Epoll.ctl(epfd, EPOLL_CTL_DEL, s.upstream, 0, 0);
            s.upstreamInterest = UNWATCHED;
        }
    }

    private void watch(ProxySession s, int side, int interest, int op) {
        long token = (long) s.generation << 32 | (long) s.id << 1 | side;
        Epoll.ctl(epfd, op, side == CLIENT ? s.client : s.upstream, interest, token);
        if (side == CLIENT) {
            s.clientInterest = interest;
        } else {
            s.upstreamInterest = interest;
        }
    }

    private void abort(ProxySession s) {
        close(s, true);
    }

    /** Closes both sockets (with a reset when {@code abort}) and gives the pipes back. */
    private void close(ProxySession s, boolean abort) {
        if (s.client < 0) {
            return;
        }
        // The session forgets its descriptors and pipes before any is closed, so that nothing
        // (a failure half-way, tearDown afterwards) can close a descriptor number twice: by then
        // the number may be someone else's.
        int client = s.client;
        int upstream = s.upstream;
        SpliceDirection toUpstream = s.toUpstream;
        SpliceDirection toClient = s.toClient;
        s.client = -1;
        s.upstream = -1;
        s.toUpstream = null;
        s.toClient = null;
        closeSocket(client, abort);
        closeSocket(upstream, abort);
        if (toUpstream != null) {
            pipes.release(toUpstream.pipe);
        }
        if (toClient != null) {
            pipes.release(toClient.pipe);
        }
        nextFree[s.id] = freeHead;
        freeHead = s.id;
        open.decrementAndGet();
    }

    private void closeSocket(int fd, boolean reset) {
        if (fd < 0) {
            return;
        }
        if (reset) {
            try {
                Sockets.set(fd, SOL_SOCKET, SO_LINGER, linger);
            } catch (SyscallException ignored) {
                // closing anyway
            }
        }
        Files.close(fd); // also leaves the epoll set
    }

    private void tearDown() {
        for (ProxySession s : sessions) {
            if (s != null && s.client >= 0) {
                close(s, true);
            }
        }
        pipes.close();
        synchronized (this) {
            if (wakeFd >= 0) {
                Files.close(wakeFd);
                wakeFd = -1;
            }
        }
        for (int fd : new int[] {epfd, listenFd}) {
            if (fd >= 0) {
                Files.close(fd);
            }
        }
    }
}
