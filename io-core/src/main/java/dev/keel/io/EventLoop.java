package dev.keel.io;

import dev.keel.ffm.Files;
import dev.keel.ffm.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static dev.keel.io.ConnectionTable.CLOSE_REASON;
import static dev.keel.io.ConnectionTable.FLAG_APP_READ_PAUSED;
import static dev.keel.io.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.ConnectionTable.FLAG_INPUT_CLOSED;
import static dev.keel.io.ConnectionTable.FLAG_NOTIFY_WRITABLE;
import static dev.keel.io.ConnectionTable.FLAG_OUTPUT_SHUT;
import static dev.keel.io.ConnectionTable.FLAG_OUTPUT_SHUTDOWN_PENDING;
import static dev.keel.io.ConnectionTable.FLAG_READ_PAUSED;
import static dev.keel.io.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.ConnectionTable.IDLE_TIMER;
import static dev.keel.io.ConnectionTable.LAST_ACTIVE;

/**
 * One reactor: a platform thread running a duty cycle over its own listening socket,
 * connection table, buffer pool, timing wheel and task queue, with a {@link Transport} (epoll
 * readiness or io_uring completions) underneath. Nothing on the loop thread takes a lock;
 * other threads reach it only through {@link #execute}, which wakes it through an eventfd. In
 * steady state a pass allocates nothing on the heap.
 *
 * <p>The connection lifecycle (open, data, queued output and water marks, half-close, close,
 * idle timeouts) lives here once; the transport-specific system calls live in a
 * package-private {@code Poller}.
 */
public final class EventLoop implements Executor {
    private static final CloseReason[] REASONS = CloseReason.values();
    static final System.Logger LOG = System.getLogger("dev.keel.io");

    private final int index;
    final LoopOptions options;
    private final ConnectionHandler handler;
    private final int listenFd;
    private final int cpu;
    private final CpuPinner pinner;
    private final LoopTasks tasks = new LoopTasks();
    private final LoopTasks.Failure taskFailure = this::taskFailed;
    private final Thread thread;
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final TimingWheel.Expiry expiry = this::onTimer;
    private final Poller poller;

    private volatile boolean shutdownRequested;
    private volatile Throwable startFailure;
    private volatile int pinnedCpu = -1;
    private volatile int node = -1;

    // Loop-thread state, created on the loop thread in run(); the poller shares it.
    Arena arena;
    ConnectionTable table;
    BufferPool pool;
    OutboundQueue outbound;
    private LoopTimers timers;
    /** The pending retry of a paused accept, or -1. */
    private int acceptResumeTimer = -1;
    private Connection[] connections;
    MemorySegment readBuffer;
    private MemorySegment[] readSlices;
    private final LoopWakeup wakeup = new LoopWakeup();
    private boolean accepting;
    private long shutdownDeadline;
    /** The clock of this pass (System.nanoTime), read once per pass. */
    long now;
    private long tick;
    private final LoopStats stats;

    EventLoop(int index, Transport transport, LoopOptions options, ConnectionHandler handler, int listenFd, int cpu,
              CpuPinner pinner) {
        this.index = index;
        this.poller = switch (transport) {
            case EPOLL -> new EpollPoller(this);
            case IO_URING -> new UringPoller(this);
            case AUTO -> throw new IllegalArgumentException("AUTO must be resolved before a loop is made");
        };
        this.options = options;
        this.handler = handler;
        this.listenFd = listenFd;
        this.cpu = cpu;
        this.pinner = pinner;
        this.stats = new LoopStats(index, options.stallThresholdNanos);
        this.thread = new Thread(this::run, "keel-loop-" + index);
    }

    void start() throws InterruptedException {
        thread.start();
        started.await();
        Throwable failure = startFailure;
        if (failure != null) {
            terminated.await();
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("event loop " + index + " failed to start", failure);
        }
    }

    /** This loop's position in its group. */
    public int index() {
        return index;
    }

    /** The transport this loop runs on: {@link Transport#EPOLL} or {@link Transport#IO_URING}. */
    public Transport transport() {
        return poller.transport();
    }

    /** The CPU the loop thread was pinned to and read back on, or -1 when unpinned. */
    public int cpu() {
        return pinnedCpu;
    }

    /** The loop thread. */
    public Thread thread() {
        return thread;
    }

    /** True on this loop's thread. */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Counters of this loop; read from any thread (values may lag by a pass). */
    public LoopStats stats() {
        return stats;
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
        tasks.offer(task, index);
        if (!inLoop() && wakeup.loopSleeps()) {
            wakeup.wake();
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
        assertInLoop();
        Objects.requireNonNull(task, "task");
        return timers.scheduleTask(System.nanoTime(), delay.toNanos(), task);
    }

    /**
     * Cancels the timer {@code timer} (a handle from {@link #schedule}) names; false when it
     * already ran or was cancelled. Loop thread only.
     */
    public boolean cancelTimer(long timer) {
        assertInLoop();
        return timers.cancelTask(timer);
    }

    private void assertInLoop() {
        if (!inLoop()) {
            throw new IllegalStateException("must run on " + thread.getName() + ", not "
                    + Thread.currentThread().getName() + "; use execute()");
        }
    }

    void requestShutdown() {
        shutdownRequested = true;
        if (wakeup.isOpen()) {
            wakeup.wake();
        }
    }

    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- loop thread

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
                } catch (RuntimeException e) {
                    // A loop must outlive any one failure; what failed is logged and counted.
                    stats.loopFailures++;
                    reportUnexpected(e);
                }
            }
        } finally {
            try {
                closeAll(CloseReason.SHUTDOWN);
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
        LoopMemory memory = LoopMemory.forCpu(options, pinnedCpu, thread.getName());
        node = memory.node();
        table = new ConnectionTable(arena, memory.allocator(), options.maxConnections, options.userAreaBytes,
                options.maxConnections * 2);
        pool = new BufferPool(arena, memory.allocator(), options.bufferSizes, poller.bufferCounts(options));
        stats.capacities(options.maxConnections, pool.total());
        memory.verify(table, pool);
        outbound = new OutboundQueue(arena, table, pool);
        now = System.nanoTime();
        // The loop's own timers: an idle check per connection slot and one accept retry.
        timers = new LoopTimers(options.tickNanos, options.wheelSize, options.maxConnections + 1, options.maxTimers, now);
        connections = new Connection[options.maxConnections];
        readBuffer = arena.allocate(options.readBufferBytes, 64);
        readSlices = new MemorySegment[options.readBufferBytes + 1];
        poller.setUp(listenFd, wakeup.open());
        if (listenFd >= 0) {
            accepting = true;
            poller.startAccepting();
        }
    }

    /** The NUMA node the loop's memory is bound to, or -1 when it is not bound. */
    public int node() {
        return node;
    }

    private boolean finished() {
        if (!shutdownRequested) {
            return false;
        }
        if (shutdownDeadline == 0) {
            beginShutdown();
        }
        return table.used() == 0 || System.nanoTime() - shutdownDeadline >= 0;
    }

    private void beginShutdown() {
        shutdownDeadline = System.nanoTime() + options.shutdownDrainNanos;
        stopAccepting();
        for (int slot = 0; slot < connections.length; slot++) {
            if (connections[slot] != null && table.hasFlag(slot, FLAG_OPEN)) {
                table.setInt(slot, CLOSE_REASON, CloseReason.SHUTDOWN.ordinal());
                closeGracefully(slot);
            }
        }
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
        stats.passEnded(table.used(), pool.inUse());
        return work + ready;
    }

    private void taskFailed(Throwable t) {
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

    // ---------------------------------------------------------------- sleep protocol (poller side)

    /**
     * Called by the poller before it blocks: tells producers to write the eventfd from now on.
     * False when a task or a shutdown arrived meanwhile, so the poller must not block; either
     * way the poller calls {@link #awake} after its wait.
     */
    boolean prepareToBlock() {
        wakeup.sleeping();
        stats.waitStarted();
        return tasks.isEmpty() && !shutdownRequested;
    }

    /** Called by the poller after a wait announced with {@link #prepareToBlock}. */
    void awake() {
        wakeup.awake();
        stats.waitEnded();
    }

    /** Whether tasks wait; lets a spinning poller stop spinning. */
    boolean hasTasks() {
        return !tasks.isEmpty();
    }

    // ---------------------------------------------------------------- accept

    /** The poller ran out of descriptors (EMFILE, ENFILE, ...): stop accepting for a while. */
    void pauseAccepting() {
        stopAccepting();
        if (acceptResumeTimer < 0) {
            acceptResumeTimer = timers.scheduleInternal(now, options.acceptRetryNanos, LoopTimers.KIND_ACCEPT_RESUME,
                    0, 0);
        }
    }

    /** Whether the loop wants new connections now. */
    boolean accepting() {
        return accepting;
    }

    private void stopAccepting() {
        if (accepting) {
            accepting = false;
            poller.stopAccepting();
        }
    }

    private void resumeAccepting() {
        if (!accepting && !shutdownRequested && listenFd >= 0) {
            accepting = true;
            poller.startAccepting();
        }
    }

    /** The poller accepted socket {@code fd} (a fixed file index with direct descriptors). */
    void accepted(int fd) {
        int slot = table.allocate(fd);
        if (slot < 0) {
            stats.rejected++;
            poller.discardAccepted(fd);
            return;
        }
        long handle = table.handleOf(slot);
        Connection c = new Connection(this, slot, handle, poller.publicFd(fd), table.userArea(slot));
        connections[slot] = c;
        stats.accepted++;
        LoopEvents.opened(index, c);
        try {
            poller.register(slot, c);
        } catch (SyscallException e) {
            closeNow(slot, CloseReason.ERROR);
            return;
        }
        table.setLong(slot, LAST_ACTIVE, tick);
        if (options.idleTimeoutNanos > 0) {
            table.setInt(slot, IDLE_TIMER, timers.scheduleInternal(now, options.idleTimeoutNanos,
                    LoopTimers.KIND_IDLE, slot, ConnectionTable.generationOfHandle(handle)));
        }
        c.opened = true; // from here on the handler hears of its close
        try {
            handler.onOpen(c);
        } catch (Throwable t) {
            handlerFailed(slot, t);
        }
    }

    // ---------------------------------------------------------------- read

    /**
     * Hands arrived bytes to the handler. Returns whether the connection is still open after
     * the call, so the poller knows whether to go on reading it.
     */
    boolean received(int slot, Connection c, MemorySegment data) {
        stats.bytesIn += data.byteSize();
        table.setLong(slot, LAST_ACTIVE, tick);
        try {
            handler.onData(c, data);
        } catch (Throwable t) {
            handlerFailed(slot, t);
            return false;
        }
        return table.isLive(c.handle());
    }

    /** A view of the first {@code n} bytes of the read buffer, made once per length and reused. */
    MemorySegment readSlice(int n) {
        MemorySegment s = readSlices[n];
        if (s == null) {
            s = readBuffer.asSlice(0, n);
            readSlices[n] = s;
        }
        return s;
    }

    /** The peer shut down its sending side. */
    void inputClosed(int slot, Connection c) {
        table.setFlag(slot, FLAG_INPUT_CLOSED);
        poller.update(slot);
        table.setInt(slot, CLOSE_REASON, CloseReason.PEER_CLOSED.ordinal());
        try {
            handler.onInputClosed(c);
        } catch (Throwable t) {
            handlerFailed(slot, t);
            return;
        }
        if (table.isLive(c.handle()) && table.hasFlag(slot, FLAG_OUTPUT_SHUT)) {
            closeGracefully(slot); // its output was shut before: nothing can move either way any more
        }
    }

    // ---------------------------------------------------------------- write

    void write(Connection c, MemorySegment data) {
        int slot = liveSlot(c);
        if (table.hasFlag(slot, FLAG_CLOSING | FLAG_OUTPUT_SHUTDOWN_PENDING)) {
            throw new IllegalStateException(c + " is closing; its output is shut");
        }
        long length = data.byteSize();
        long written = 0;
        boolean wasEmpty = outbound.pending(slot) == 0;
        if (data.isNative()) {
            written = wasEmpty ? poller.writeNow(slot, c, data, length) : poller.queueWithoutCopy(slot, data, length);
            if (written < 0) {
                return;
            }
        }
        if (written < length) {
            if (!outbound.append(slot, data, written, length - written)) {
                closeNow(slot, CloseReason.POOL_EXHAUSTED);
                return;
            }
            if (wasEmpty && !data.isNative() && poller.flushNow(slot, c) < 0) {
                return; // the kernel cannot read the Java heap: heap bytes go out from the queue
            }
        }
        // Queued bytes, whether copied above or adopted by the poller (io_uring), wait for space.
        long pending = outbound.pending(slot);
        if (pending > 0 && !table.hasFlag(slot, FLAG_WANT_WRITE)) {
            table.setFlag(slot, FLAG_WANT_WRITE);
            poller.update(slot);
        }
        if (pending >= options.highWaterMark && !table.hasFlag(slot, FLAG_READ_PAUSED)) {
            table.setFlag(slot, FLAG_READ_PAUSED | FLAG_NOTIFY_WRITABLE);
            poller.update(slot);
        }
    }

    /** The socket took {@code n} bytes of the connection's output. */
    void sent(int slot, long n) {
        stats.bytesOut += n;
        table.setLong(slot, LAST_ACTIVE, tick);
    }

    void pauseReading(Connection c) {
        int slot = liveSlot(c);
        if (!table.hasFlag(slot, FLAG_APP_READ_PAUSED)) {
            table.setFlag(slot, FLAG_APP_READ_PAUSED);
            poller.update(slot);
        }
    }

    void resumeReading(Connection c) {
        int slot = liveSlot(c);
        if (table.hasFlag(slot, FLAG_APP_READ_PAUSED)) {
            table.clearFlag(slot, FLAG_APP_READ_PAUSED);
            poller.update(slot);
        }
    }

    void outputSent(Connection c, long bytes) {
        int slot = liveSlot(c);
        if (bytes > 0) {
            sent(slot, bytes);
        }
    }

    void notifyWhenWritable(Connection c) {
        int slot = liveSlot(c);
        table.setFlag(slot, FLAG_WANT_WRITE | FLAG_NOTIFY_WRITABLE);
        poller.update(slot);
    }

    /**
     * Output moved (the socket took queued bytes, or became writable): finish a pending close or
     * shutdown once the queue is empty, resume reading and call onWritable below the low mark.
     */
    void outputProgress(int slot, Connection c) {
        long pending = outbound.pending(slot);
        if (pending == 0) {
            table.clearFlag(slot, FLAG_WANT_WRITE);
            if (table.hasFlag(slot, FLAG_CLOSING)) {
                closeNow(slot, REASONS[table.getInt(slot, CLOSE_REASON)]);
                return;
            }
            if (table.hasFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING)) {
                table.clearFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING);
                poller.shutdownOutput(slot, c);
                if (!table.isLive(c.handle())) {
                    return;
                }
            }
        }
        if (pending <= options.lowWaterMark && table.hasFlag(slot, FLAG_NOTIFY_WRITABLE)) {
            table.clearFlag(slot, FLAG_NOTIFY_WRITABLE | FLAG_READ_PAUSED);
            poller.update(slot);
            try {
                handler.onWritable(c);
            } catch (Throwable t) {
                handlerFailed(slot, t);
                return;
            }
        }
        if (table.isLive(c.handle())) {
            poller.update(slot);
        }
    }

    // ---------------------------------------------------------------- close

    void close(Connection c) {
        int slot = liveSlot(c);
        if (!table.hasFlag(slot, FLAG_INPUT_CLOSED)) {
            table.setInt(slot, CLOSE_REASON, CloseReason.LOCAL.ordinal());
        }
        closeGracefully(slot);
    }

    void abort(Connection c) {
        closeNow(liveSlot(c), CloseReason.ABORTED);
    }

    void shutdownOutput(Connection c) {
        int slot = liveSlot(c);
        if (table.hasFlag(slot, FLAG_INPUT_CLOSED)) {
            // Input ended already: with the output shut nothing could move again, so this is a
            // close (the FIN still follows the pending output), not a connection left to hang.
            closeGracefully(slot);
            return;
        }
        table.setFlag(slot, FLAG_OUTPUT_SHUT);
        if (outbound.pending(slot) == 0) {
            poller.shutdownOutput(slot, c);
        } else {
            table.setFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING);
        }
    }

    private void closeGracefully(int slot) {
        if (outbound.pending(slot) == 0) {
            closeNow(slot, REASONS[table.getInt(slot, CLOSE_REASON)]);
        } else if (!table.hasFlag(slot, FLAG_CLOSING)) {
            table.setFlag(slot, FLAG_CLOSING);
            poller.update(slot);
        }
    }

    /**
     * Closes the connection in {@code slot} now: its handle goes stale at once, the poller
     * stops the kernel's work on it, and once the kernel holds nothing of it the slot and its
     * buffers are freed and the handler hears {@code onClose} ({@link #released}).
     */
    void closeNow(int slot, CloseReason reason) {
        Connection c = connections[slot];
        if (c == null || !table.hasFlag(slot, FLAG_OPEN)) {
            return;
        }
        int timer = table.getInt(slot, IDLE_TIMER);
        if (timer >= 0) {
            timers.cancelInternal(timer);
        }
        table.setInt(slot, CLOSE_REASON, reason.ordinal());
        table.retire(slot);
        if (poller.close(slot, c)) {
            released(slot);
        }
    }

    /** The kernel holds nothing of retired {@code slot} any more: free it and tell the handler. */
    void released(int slot) {
        Connection c = connections[slot];
        connections[slot] = null;
        outbound.discard(slot);
        CloseReason reason = REASONS[table.getInt(slot, CLOSE_REASON)];
        table.release(slot);
        stats.closed++;
        LoopEvents.closed(index, c, reason);
        if (!c.opened) {
            return; // closed before onOpen (its registration failed): the handler never saw it
        }
        try {
            handler.onClose(c, reason);
        } catch (Throwable t) {
            reportUnexpected(t);
        }
    }

    private void closeAll(CloseReason reason) {
        if (connections == null) {
            return;
        }
        for (int slot = 0; slot < connections.length; slot++) {
            if (connections[slot] != null) {
                closeNow(slot, reason);
            }
        }
    }

    private void handlerFailed(int slot, Throwable t) {
        stats.handlerFailures++;
        reportUnexpected(t);
        closeNow(slot, CloseReason.HANDLER_ERROR);
    }

    void reportUnexpected(Throwable t) {
        Thread.UncaughtExceptionHandler h = Thread.getDefaultUncaughtExceptionHandler();
        if (h != null) {
            h.uncaughtException(thread, t);
        } else {
            LOG.log(System.Logger.Level.WARNING, thread.getName() + ": " + t, t);
        }
        if (t instanceof VirtualMachineError e) {
            throw e;
        }
    }

    // ---------------------------------------------------------------- timers

    private void onTimer(int timerId, int kind, int a, int b) {
        switch (kind) {
            case LoopTimers.KIND_IDLE -> idleCheck(a, b);
            case LoopTimers.KIND_TASK -> {
                Runnable task = timers.takeTask(timerId);
                try {
                    task.run();
                } catch (Throwable t) {
                    taskFailed(t);
                }
            }
            case LoopTimers.KIND_ACCEPT_RESUME -> {
                acceptResumeTimer = -1;
                resumeAccepting();
            }
            default -> throw new IllegalStateException("unknown timer kind " + kind);
        }
    }

    private void idleCheck(int slot, int generation) {
        long handle = ConnectionTable.handle(slot, generation);
        if (!table.isLive(handle)) {
            return;
        }
        long idleTicks = (options.idleTimeoutNanos + options.tickNanos - 1) / options.tickNanos;
        long quiet = tick - table.getLong(slot, LAST_ACTIVE);
        if (quiet >= idleTicks) {
            table.setInt(slot, IDLE_TIMER, -1);
            stats.idleTimeouts++;
            closeNow(slot, CloseReason.IDLE_TIMEOUT);
        } else {
            table.setInt(slot, IDLE_TIMER, timers.scheduleInternal(now, (idleTicks - quiet) * options.tickNanos,
                    LoopTimers.KIND_IDLE, slot, generation));
        }
    }

    // ---------------------------------------------------------------- queries

    boolean isLive(long handle) {
        return table != null && table.isLive(handle);
    }

    long pendingBytes(Connection c) {
        assertInLoop();
        return table.isLive(c.handle()) ? outbound.pending(c.slot()) : 0;
    }

    private int liveSlot(Connection c) {
        assertInLoop();
        if (!table.isLive(c.handle())) {
            throw new StaleHandleException(c.handle());
        }
        return c.slot();
    }

    /** The connection in {@code slot} (open, or retired and not yet released), or null. */
    Connection connection(int slot) {
        return connections[slot];
    }

    /** Connections open on this loop now, closed ones the kernel still holds included; loop thread only. */
    int openConnections() {
        return table.used();
    }

    /** The loop's listening socket, -1 when it has none (tests shut it down). */
    int listenFd() {
        return listenFd;
    }

    /** The transport's side of this loop (tests look inside it). */
    Poller poller() {
        return poller;
    }

    /** Pool buffers held by connections now (not those lent to the kernel for receives); loop thread only. */
    int buffersInUse() {
        return pool.inUse() - poller.buffersLentToKernel();
    }

    private void tearDown() {
        try {
            poller.tearDown();
        } finally {
            wakeup.close();
            closeQuietly(listenFd);
            if (arena != null && !poller.holdsMemory()) {
                arena.close();
            }
        }
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
