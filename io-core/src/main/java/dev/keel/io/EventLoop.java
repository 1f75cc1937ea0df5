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
     * Cancels the timer {@code timer} (a handle from {@link #schedule}) names; false when it
     * already ran or was cancelled. Loop thread only.
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
