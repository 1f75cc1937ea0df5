package dev.keel.io;

import dev.keel.ffm.Files;
import dev.keel.ffm.SyscallException;
import dev.keel.io.loop.BufferPool;
import dev.keel.io.loop.LoopHoldings;
import dev.keel.io.loop.Poller;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One reactor: a platform thread running a duty cycle over its own listening socket,
 * connection table, buffer pool, timing wheel and task queue, with a {@link Transport} (epoll
 * readiness or io_uring completions) underneath. Nothing on the loop thread takes a lock;
 * other threads reach it only through {@link #execute}, which wakes it through an eventfd. In
 * steady state a pass allocates nothing on the heap.
 *
 * <p>This class is the loop's public face only. The duty cycle lives in the package-private
 * {@code LoopCore}, a connection's life in {@code ConnectionLifecycle}, its output and
 * back-pressure in {@code WritePath}; the transport-specific system calls live in a
 * {@link Poller} (package {@code dev.keel.io.epoll} or {@code dev.keel.io.uring}), which sees
 * the loop only through {@link dev.keel.io.loop.PollerHost}.
 */
public final class EventLoop implements Executor {
    static final System.Logger LOG = System.getLogger("dev.keel.io");

    private final LoopCore core;
    /** This loop's datagram endpoints, made on first use; loop thread only. */
    private LoopDatagrams datagrams;

    static {
        LoopHoldings.install(loop -> new LoopHoldings.Usage(loop.openConnections(), loop.buffersInUse(),
                loop.pool().bytesInUse()));
    }

    EventLoop(int index, Transport transport, LoopOptions options, ConnectionHandler handler, int listenFd, int cpu,
              CpuPinner pinner) {
        this.core = new LoopCore(this, index, transport, options, handler, listenFd, cpu, pinner);
    }

    void start() throws InterruptedException {
        core.thread.start();
        core.started.await();
        Throwable failure = core.startFailure;
        if (failure != null) {
            core.terminated.await();
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("event loop " + core.index + " failed to start", failure);
        }
    }

    /** This loop's position in its group. */
    public int index() {
        return core.index;
    }

    /** The transport this loop runs on: {@link Transport#EPOLL} or {@link Transport#IO_URING}. */
    public Transport transport() {
        return core.poller.transport();
    }

    /** The CPU the loop thread was pinned to and read back on, or -1 when unpinned. */
    public int cpu() {
        return core.pinnedCpu;
    }

    /** The NUMA node the loop's memory is bound to, or -1 when it is not bound. */
    public int node() {
        return core.node;
    }

    /** The loop thread. */
    public Thread thread() {
        return core.thread;
    }

    /** True on this loop's thread. */
    public boolean inLoop() {
        return Thread.currentThread() == core.thread;
    }

    /** Counters of this loop; read from any thread (values may lag by a pass). */
    public LoopStats stats() {
        return core.stats;
    }

    /**
     * Runs {@code task} on the loop thread; callable from any thread. A task taken is run, even
     * when the loop stops meanwhile: then after its connections are closed, as the last thing
     * the loop does (timers it schedules then never fire).
     *
     * @throws RejectedExecutionException once the loop has terminated
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        core.execute(task);
    }

    /**
     * Opens an outbound TCP connection to {@code remote} on this loop; callable from any thread
     * (from another, the connect starts with the loop's next pass). Non-blocking on either
     * transport. When it completes, {@code handler} hears {@code onOpen} and serves the
     * connection like an accepted one (the loop's buffers, water marks and idle timeout apply);
     * when it cannot — refused (ECONNREFUSED), unreachable, timed out by the kernel (ETIMEDOUT)
     * or by {@link ConnectOptions.Builder#timeout}, no room on the loop, the loop stopping —
     * {@code handler} hears {@link ConnectionHandler#onConnectFailed} instead, on the loop
     * thread, once everything the attempt held is free. Nothing is thrown on the loop.
     *
     * @throws IllegalArgumentException   when {@code remote} is unresolved (no DNS on a loop)
     * @throws RejectedExecutionException once the loop has terminated
     */
    public void connect(InetSocketAddress remote, ConnectionHandler handler, ConnectOptions options) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(options, "options");
        if (remote.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address " + remote + ": resolve it before connecting");
        }
        if (options.localAddress != null
                && options.localAddress.getAddress().getClass() != remote.getAddress().getClass()) {
            throw new IllegalArgumentException("local address " + options.localAddress + " is not of the family of "
                    + remote);
        }
        if (inLoop()) {
            core.connector.connect(remote, handler, options);
        } else {
            core.execute(() -> core.connector.connect(remote, handler, options));
        }
    }

    /**
     * Runs {@code task} on the loop thread after {@code delay}; must be called on the loop
     * thread. Returns the timer's handle for {@link #cancelTimer}: a non-negative long that
     * names this timer only (it carries a generation, like a connection's handle), so a handle
     * kept after its timer ran or was cancelled cancels nothing later.
     *
     * @throws RejectedExecutionException when {@link LoopOptions.Builder#maxTimers} application
     *         timers are pending already; the loop's own timers (idle timeouts, accept retries)
     *         have room of their own and are never crowded out
     */
    public long schedule(Duration delay, Runnable task) {
        core.assertInLoop();
        Objects.requireNonNull(task, "task");
        return core.timers.scheduleTask(System.nanoTime(), delay.toNanos(), task);
    }

    /**
     * Runs {@code task} on the loop thread first after {@code initialDelay}, then every
     * {@code period} at a fixed rate: its deadlines stay on the grid start + k * period, so
     * runs do not drift however long each takes; each fires at the first tick of the loop's
     * wheel at or after its deadline. A deadline already past when a run ends (a run longer
     * than the period, a stalled loop) is skipped rather than run in a burst. Loop thread only;
     * the handle, for {@link #cancelTimer}, names this task for its whole life (one place of
     * {@link LoopOptions.Builder#maxTimers} until cancelled). Allocation-free once started.
     *
     * @throws RejectedExecutionException when the application's timers are all in use
     */
    public long scheduleAtFixedRate(Duration initialDelay, Duration period, Runnable task) {
        return periodic(initialDelay, period, true, task);
    }

    /**
     * As {@link #scheduleAtFixedRate}, but each run's deadline is {@code delay} after the
     * previous run ended.
     */
    public long scheduleWithFixedDelay(Duration initialDelay, Duration delay, Runnable task) {
        return periodic(initialDelay, delay, false, task);
    }

    private long periodic(Duration initialDelay, Duration period, boolean fixedRate, Runnable task) {
        core.assertInLoop();
        Objects.requireNonNull(task, "task");
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("period must be positive: " + period);
        }
        return core.timers.schedulePeriodic(System.nanoTime(), initialDelay.toNanos(), period.toNanos(), fixedRate,
                task);
    }

    /** The next deadline (System.nanoTime) of periodic task {@code handle}, -1 once cancelled; loop thread (tests). */
    long periodicDeadline(long handle) {
        return core.timers.periodicDeadline(handle);
    }

    /**
     * Cancels the timer {@code timer} (a handle from {@link #schedule} or one of the periodic
     * schedules) names; false when it already ran or was cancelled. Loop thread only.
     */
    public boolean cancelTimer(long timer) {
        core.assertInLoop();
        return core.timers.cancelTask(timer);
    }

    /**
     * Opens a UDP endpoint on this loop, bound to {@code local} (port 0: any), connected when
     * the options name a peer; loop thread only (see {@link #openDatagramAsync}).
     *
     * @throws dev.keel.ffm.SyscallException naming the call that failed (bind: EADDRINUSE, ...)
     * @throws IllegalStateException when the loop serves its most endpoints already
     */
    public DatagramEndpoint openDatagram(InetSocketAddress local, DatagramOptions options, DatagramHandler handler) {
        core.assertInLoop();
        Objects.requireNonNull(handler, "handler");
        if (datagrams == null) {
            datagrams = new LoopDatagrams(core, this);
        }
        return datagrams.open(local, options, handler);
    }

    /** {@link #openDatagram} from any thread: runs it on the loop thread. */
    public CompletableFuture<DatagramEndpoint> openDatagramAsync(InetSocketAddress local, DatagramOptions options,
                                                                 DatagramHandler handler) {
        CompletableFuture<DatagramEndpoint> f = new CompletableFuture<>();
        execute(() -> {
            try {
                f.complete(openDatagram(local, options, handler));
            } catch (RuntimeException | Error e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    void requestShutdown() {
        core.requestShutdown();
    }

    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return core.terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- for the group, LoopHoldings and tests

    /** Connections open on this loop now, closed ones the kernel still holds included; loop thread only. */
    int openConnections() {
        return core.table.used();
    }

    /** The loop's listening socket, -1 when it has none (tests shut it down). */
    int listenFd() {
        return core.listenFd();
    }

    /** Whether the loop accepts new connections now; loop thread only (tests). */
    boolean accepting() {
        return core.accepting();
    }

    /** Pauses accepting as the transport does on EMFILE; loop thread only (tests). */
    void pauseAccepting() {
        core.pauseAccepting();
    }

    /** The transport's side of this loop (tests look inside it). */
    Poller poller() {
        return core.poller;
    }

    /** Timers pending on the loop's wheel, its own and the application's; loop thread only (tests). */
    int pendingTimers() {
        return core.timers.pending();
    }

    /** The tick of the loop's wheel {@code nanos} falls in (tests count firings in ticks). */
    long tickOf(long nanos) {
        return core.timers.tickOf(nanos);
    }

    /** Bytes {@code c} keeps for its next delivery ({@link Connection#keep}); loop thread only (tests). */
    int keptBytes(Connection c) {
        return core.cumulation.held(c.slot());
    }

    /** The loop's buffer pool; loop thread only. */
    BufferPool pool() {
        return core.pool;
    }

    /** Pool buffers held by connections now (not those lent to the kernel for receives); loop thread only. */
    int buffersInUse() {
        return core.pool.inUse() - core.poller.buffersLentToKernel();
    }

    static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                Files.close(fd);
            } catch (SyscallException ignored) {
                // tearing down: nothing more to do with a descriptor the kernel refuses to close
            }
        }
    }
}
