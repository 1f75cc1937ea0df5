package dev.keel.io;

import dev.keel.io.epoll.EpollPoller;
import dev.keel.io.loop.BufferPool;
import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.LoopMemory;
import dev.keel.io.loop.LoopWakeup;
import dev.keel.io.loop.FileRegions;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.io.loop.Poller;
import dev.keel.io.loop.TimingWheel;
import dev.keel.io.loop.PollerHost;
import dev.keel.io.uring.UringPoller;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
/**
 * The duty cycle of one loop thread: set-up (pinning, NUMA-bound memory, table, pool, queues,
 * the transport), then passes of "run tasks, fire timers, poll and dispatch" until shutdown,
 * then close, drain and free. It owns the loop's state, hands it to its parts — the
 * {@link ConnectionLifecycle} and the {@link WritePath} — keeps the accept switch and the
 * loop's own timers, and is the {@link PollerHost} its transport talks to: the one narrow
 * interface between a transport and the loop, so that neither reaches into the other. Nothing
 * here takes a lock; other threads reach the loop only through the task queue and its eventfd.
 */
final class LoopCore implements PollerHost {
    final EventLoop loop;
    final int index;
    final LoopOptions options;
    final LoopStats stats;
    final Poller poller;
    final Thread thread;
    final LoopTasks tasks;
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch terminated = new CountDownLatch(1);
    private final ConnectionHandler handler;
    private final int listenFd;
    private final int cpu;
    private final CpuPinner pinner;
    private final LoopTasks.Failure taskFailure = this::taskFailed;
    private final TimingWheel.Expiry expiry = this::onTimer;
    private final LoopWakeup wakeup = new LoopWakeup();
    private final AcceptPolicy acceptPolicy;

    private volatile boolean shutdownRequested;
    volatile Throwable startFailure;
    volatile int pinnedCpu = -1;
    volatile int node = -1;

    // Loop-thread state, created on the loop thread in setUp(); the poller shares it.
    Arena arena;
    ConnectionTable table;
    BufferPool pool;
    OutboundQueue outbound;
    LoopTimers timers;
    ConnectionLifecycle lifecycle;
    WritePath writes;
    Connector connector;
    Cumulation cumulation;
    ConnectionTimeouts timeouts;
    private MemorySegment readBuffer;
    private MemorySegment[] readSlices;
    private long shutdownDeadline;
    /** The clock of this pass (System.nanoTime): read when the pass begins, and again when it wakes from a blocking wait. */
    long now;
    /** The timer tick of this pass. */
    long tick;

    LoopCore(EventLoop loop, int index, Transport transport, LoopOptions options, ConnectionHandler handler,
             int listenFd, int cpu, CpuPinner pinner) {
        this.loop = loop;
        this.index = index;
        this.options = options;
        this.handler = handler;
        this.listenFd = listenFd;
        this.cpu = cpu;
        this.pinner = pinner;
        this.tasks = new LoopTasks(options.maxPendingTasks);
        this.stats = new LoopStats(index, options.stallThresholdNanos);
        this.thread = new Thread(this::run, "keel-loop-" + index);
        this.acceptPolicy = new AcceptPolicy(this);
        this.poller = switch (transport) {
            case EPOLL -> new EpollPoller(this);
            case IO_URING -> new UringPoller(this);
            case AUTO -> throw new IllegalArgumentException("AUTO must be resolved before a loop is made");
        };
    }

    // ---------------------------------------------------------------- any thread

    void execute(Runnable task) {
        tasks.offer(task, index);
        if (Thread.currentThread() != thread && wakeup.loopSleeps()) {
            wakeup.wake();
        }
    }

    void requestShutdown() {
        shutdownRequested = true;
        if (wakeup.isOpen()) {
            wakeup.wake();
        }
    }

    // ---------------------------------------------------------------- the thread

    private void run() {
        try {
            setUp();
        } catch (Throwable t) {
            startFailure = t;
            tasks.closeAndRunRemaining(taskFailure);
            tearDown();
            started.countDown();
            terminated.countDown();
            return;
        }
        started.countDown();
        try {
            while (!finished()) {
                try {
                    doWork();
                } catch (RuntimeException | LinkageError e) {
                    // A loop must outlive any one failure; what failed is logged and counted. A
                    // LinkageError included: a class first needed while the process is out of
                    // descriptors cannot be read from its directory or jar, and that must not
                    // end the thread (it loads once descriptors are free again).
                    stats.loopFailures++;
                    reportUnexpected(e);
                }
            }
        } finally {
            try {
                if (lifecycle != null) {
                    lifecycle.closeAll(CloseReason.SHUTDOWN);
                }
                poller.drain(System.nanoTime() + Math.max(options.shutdownDrainNanos, 1_000_000_000L));
                tasks.closeAndRunRemaining(taskFailure);
                tearDown();
            } finally {
                terminated.countDown();
            }
        }
    }

    private void setUp() {
        ErrorPaths.preload();
        if (cpu >= 0) {
            pinnedCpu = pinner.pinCurrentThread(cpu);
        }
        arena = Arena.ofShared();
        LoopMemory memory = LoopMemory.forCpu(options.regionAllocator, pinnedCpu, thread.getName());
        node = memory.node();
        table = new ConnectionTable(arena, memory.allocator(), options.maxConnections, options.userAreaBytes);
        pool = new BufferPool(arena, memory.allocator(), options.bufferSizes, poller.bufferCounts(options));
        stats.capacities(options.maxConnections, pool.total());
        memory.verify(table, pool);
        outbound = new OutboundQueue(arena, table, pool, new FileRegions(options.maxConnections));
        now = System.nanoTime();
        // The loop's own timers: an idle check per connection slot and one accept retry.
        timers = new LoopTimers(options.tickNanos, options.wheelSize, options.maxConnections + 1, options.maxTimers, now);
        lifecycle = new ConnectionLifecycle(this, handler, options.maxConnections);
        writes = new WritePath(this);
        connector = new Connector(this);
        timeouts = new ConnectionTimeouts(this, options.maxConnections);
        cumulation = new Cumulation(pool, arena, options.maxConnections,
                Math.max(options.readBufferBytes, options.providedBufferBytes));
        readBuffer = arena.allocate(options.readBufferBytes, 64);
        readSlices = new MemorySegment[options.readBufferBytes + 1];
        poller.setUp(listenFd, wakeup.open());
        acceptPolicy.resume();
    }

    private boolean finished() {
        if (!shutdownRequested) {
            return false;
        }
        if (shutdownDeadline == 0) {
            shutdownDeadline = System.nanoTime() + options.shutdownDrainNanos;
            acceptPolicy.stop();
            lifecycle.closeAllGracefully(CloseReason.SHUTDOWN);
        }
        return table.used() == 0 || System.nanoTime() - shutdownDeadline >= 0;
    }

    /**
     * One pass of the duty cycle: read the clock once, run queued tasks, fire due timers, poll
     * (blocking only when there is nothing else to do), dispatch events. Returns the work done.
     */
    int doWork() {
        now = System.nanoTime();
        stats.passStarted(now);
        tick = timers.tickOf(now);
        int work = tasks.run(options.maxTasksPerPass, taskFailure);
        int fired = timers.advance(now, expiry);
        stats.timersFired += fired;
        work += fired;
        int ready = poller.poll(work > 0 || !tasks.isEmpty() ? 0 : timeoutMillis());
        stats.filePipes = poller.filePipes();
        stats.passEnded(table.used(), pool.inUse());
        return work + ready;
    }

    void taskFailed(Throwable t) {
        stats.taskFailures++;
        reportUnexpected(t);
    }

    private int timeoutMillis() {
        if (shutdownRequested) {
            return 10;
        }
        long toTick = timers.nanosToNextTick(now);
        if (toTick < 0) {
            return -1;
        }
        return (int) Math.max(1, (toTick + 999_999) / 1_000_000);
    }

    private void tearDown() {
        try {
            poller.tearDown();
        } finally {
            wakeup.close();
            EventLoop.closeQuietly(listenFd);
            if (arena != null && !poller.holdsMemory()) {
                arena.close();
            }
        }
    }

    // ---------------------------------------------------------------- accept switch

    /** Accepting ran out of something (EMFILE, ENFILE, ...): stop accepting for a while. */
    void pauseAccepting() {
        acceptPolicy.pause();
    }

    // ---------------------------------------------------------------- the loop's own timers

    private void onTimer(int timerId, int kind, int a, int b) {
        switch (kind) {
            case LoopTimers.KIND_IDLE -> timeouts.check(a, b);
            case LoopTimers.KIND_TASK -> {
                Runnable task = timers.takeTask(timerId);
                try {
                    task.run();
                } catch (Throwable t) {
                    taskFailed(t);
                }
            }
            case LoopTimers.KIND_CONNECT_TIMEOUT -> lifecycle.connectTimedOut(a, b);
            case LoopTimers.KIND_PERIODIC -> timers.runPeriodic(a, b, now, taskFailure);
            case LoopTimers.KIND_ACCEPT_RESUME -> acceptPolicy.resume();
            default -> throw new IllegalStateException("unknown timer kind " + kind);
        }
    }

    /** Whether the loop was asked to stop. */
    boolean shuttingDown() {
        return shutdownRequested;
    }

    /** The loop's listening socket, -1 when it has none. */
    int listenFd() {
        return listenFd;
    }

    // ---------------------------------------------------------------- Connection's entry points

    /** The slot of live connection {@code c}, on the loop thread; else StaleHandleException or IllegalStateException. */
    int liveSlot(Connection c) {
        assertInLoop();
        if (!table.isLive(c.handle())) {
            throw new StaleHandleException(c.handle());
        }
        return c.slot();
    }

    void assertInLoop() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("must run on " + thread.getName() + ", not "
                    + Thread.currentThread().getName() + "; use execute()");
        }
    }

    boolean isLive(long handle) {
        return table != null && table.isLive(handle);
    }

    long pendingBytes(Connection c) {
        assertInLoop();
        return table.isLive(c.handle()) ? outbound.pending(c.slot()) : 0;
    }

    /** Whether nothing of {@code c}'s output waits: no queued byte, no file region (false once closed). */
    boolean outputDrained(Connection c) {
        assertInLoop();
        return table.isLive(c.handle()) && outbound.drained(c.slot());
    }

    // ---------------------------------------------------------------- PollerHost: state

    @Override
    public LoopOptions options() {
        return options;
    }

    @Override
    public ConnectionTable table() {
        return table;
    }

    @Override
    public BufferPool pool() {
        return pool;
    }

    @Override
    public OutboundQueue outbound() {
        return outbound;
    }

    @Override
    public Arena arena() {
        return arena;
    }

    @Override
    public MemorySegment readBuffer() {
        return readBuffer;
    }

    @Override
    public MemorySegment readSlice(int n) {
        MemorySegment s = readSlices[n];
        if (s == null) {
            s = readBuffer.asSlice(0, n);
            readSlices[n] = s;
        }
        return s;
    }

    @Override
    public long now() {
        return now;
    }

    @Override
    public Connection connection(int slot) {
        return lifecycle.connection(slot);
    }

    @Override
    public int descriptor(Connection c) {
        return c.descriptor();
    }

    @Override
    public String name() {
        return thread.getName();
    }

    @Override
    public int cpu() {
        return pinnedCpu;
    }

    // ---------------------------------------------------------------- PollerHost: counting

    @Override
    public void countSyscalls(long n) {
        stats.syscalls += n;
    }

    @Override
    public void countReceiveBatch(int n) {
        stats.datagrams().receiveBatch(n);
    }

    @Override
    public void countSendBatch(int n) {
        stats.datagrams().sendBatch(n);
    }

    @Override
    public void receiveStarved() {
        stats.receiveStarvations++;
    }

    @Override
    public void completionsOverflowed() {
        stats.completionOverflows++;
    }

    // ---------------------------------------------------------------- PollerHost: sleep protocol

    @Override
    public boolean prepareToBlock() {
        wakeup.sleeping();
        stats.waitStarted();
        return tasks.isEmpty() && !shutdownRequested;
    }

    @Override
    public void awake() {
        wakeup.awake();
        stats.waitEnded();
        // The wait may have lasted any time: what follows (accepts, reads, idle clocks) happens
        // now. With the clock of before it, a connection accepted after a long sleep was idle at once.
        now = System.nanoTime();
        tick = timers.tickOf(now);
    }

    @Override
    public boolean hasTasks() {
        return !tasks.isEmpty();
    }

    // ---------------------------------------------------------------- PollerHost: accept

    @Override
    public boolean accepting() {
        return acceptPolicy.accepting();
    }

    @Override
    public boolean acceptFailed(int errno) {
        return acceptPolicy.failed(errno);
    }

    @Override
    public void accepted(int fd) {
        acceptPolicy.accepted();
        lifecycle.accepted(fd);
    }

    @Override
    public void acceptedUnserved() {
        stats.rejected++;
    }

    @Override
    public void configure(int fd) {
        SocketOptions.apply(options, stats, fd);
    }

    // ---------------------------------------------------------------- PollerHost: connections

    @Override
    public void connected(int slot) {
        lifecycle.connected(slot);
    }

    @Override
    public void connectFailed(int slot, String call, int errno) {
        lifecycle.connectFailed(slot, call, errno);
    }

    @Override
    public boolean received(int slot, Connection c, MemorySegment data) {
        return lifecycle.received(slot, c, data);
    }

    @Override
    public void inputClosed(int slot, Connection c) {
        lifecycle.inputClosed(slot, c);
    }

    @Override
    public void sent(int slot, long n) {
        writes.sent(slot, n);
    }

    @Override
    public void sentFile(int slot, long n) {
        writes.sentFile(slot, n);
    }

    @Override
    public void fileSent(int slot, Connection c, int error) {
        writes.fileDone(slot, c, error);
    }

    @Override
    public void outputProgress(int slot, Connection c) {
        writes.outputProgress(slot, c);
    }

    @Override
    public void closeNow(int slot, CloseReason reason) {
        lifecycle.closeNow(slot, reason);
    }

    @Override
    public void released(int slot) {
        lifecycle.released(slot);
    }

    @Override
    public void reportUnexpected(Throwable t) {
        Thread.UncaughtExceptionHandler h = Thread.getDefaultUncaughtExceptionHandler();
        if (h != null) {
            h.uncaughtException(thread, t);
        } else {
            EventLoop.LOG.log(System.Logger.Level.WARNING, thread.getName() + ": " + t, t);
        }
        if (t instanceof VirtualMachineError e) {
            throw e;
        }
    }
}
