package dev.keel.io;

import dev.keel.ffm.Epoll;
import dev.keel.ffm.EventFd;
import dev.keel.ffm.Files;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;
import org.jctools.queues.MpscUnboundedArrayQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

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
import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_BUSY_POLL;
import static dev.keel.ffm.gen.LinuxConstants.SO_RCVBUF;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;
import static dev.keel.ffm.gen.LinuxConstants.TCP_NODELAY;
import static dev.keel.io.ConnectionTable.CLOSE_REASON;
import static dev.keel.io.ConnectionTable.FLAG_APP_READ_PAUSED;
import static dev.keel.io.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.ConnectionTable.FLAG_INPUT_CLOSED;
import static dev.keel.io.ConnectionTable.FLAG_NOTIFY_WRITABLE;
import static dev.keel.io.ConnectionTable.FLAG_OUTPUT_SHUTDOWN_PENDING;
import static dev.keel.io.ConnectionTable.FLAG_READ_PAUSED;
import static dev.keel.io.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.ConnectionTable.IDLE_TIMER;
import static dev.keel.io.ConnectionTable.INTEREST;
import static dev.keel.io.ConnectionTable.LAST_ACTIVE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One reactor: a platform thread running a level-triggered epoll loop over its own listening
 * socket, connection table, buffer pool, timing wheel and task queue. Nothing on the loop
 * thread takes a lock; other threads reach it only through {@link #execute}, which wakes it
 * through an eventfd. In steady state a pass allocates nothing on the heap.
 */
public final class EventLoop implements Executor {
    private static final long WAKEUP_TOKEN = -1L;
    private static final long LISTENER_TOKEN = -2L;
    private static final int TIMER_IDLE = 1;
    private static final int TIMER_TASK = 2;
    private static final int TIMER_ACCEPT_RESUME = 3;
    private static final int READS_PER_EVENT = 4;
    private static final int ACCEPTS_PER_EVENT = 64;
    private static final CloseReason[] REASONS = CloseReason.values();
    private static final System.Logger LOG = System.getLogger("dev.keel.io");

    private static final VarHandle SLEEPING;
    /**
     * The 8-byte 1 that wakes a loop. Global, not in a loop's arena: a producer may still be
     * inside write(2) on it when the woken loop frees its arena and exits.
     */
    private static final MemorySegment WAKE_VALUE = Arena.global().allocate(JAVA_LONG);

    static {
        WAKE_VALUE.set(JAVA_LONG, 0, 1L);
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(EventLoop.class, "sleeping", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int index;
    private final LoopOptions options;
    private final ConnectionHandler handler;
    private final int listenFd;
    private final int cpu;
    private final CpuPinner pinner;
    private final MpscUnboundedArrayQueue<Runnable> tasks = new MpscUnboundedArrayQueue<>(256);
    private final Thread thread;
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final TimingWheel.Expiry expiry = this::onTimer;

    // Cross-thread: producers read it to decide whether to write the eventfd. Padding is
    // not worth it here: the field is written twice per blocking pass, not per message.
    @SuppressWarnings("unused")
    private volatile int sleeping;
    private volatile boolean shutdownRequested;
    private volatile Throwable startFailure;
    private volatile int pinnedCpu = -1;

    // Loop-thread state, created on the loop thread in run().
    private Arena arena;
    private ConnectionTable table;
    private BufferPool pool;
    private OutboundQueue outbound;
    private TimingWheel wheel;
    private Connection[] connections;
    private Runnable[] timerTasks;
    private MemorySegment events;
    private MemorySegment readBuffer;
    private MemorySegment[] readSlices;
    private int epfd = -1;
    private int wakeFd = -1;
    private MemorySegment wakeScratch;
    private boolean accepting;
    private long shutdownDeadline;
    private long now;
    private long tick;
    private final LoopStats stats = new LoopStats();

    EventLoop(int index, LoopOptions options, ConnectionHandler handler, int listenFd, int cpu, CpuPinner pinner) {
        this.index = index;
        this.options = options;
        this.handler = handler;
        this.listenFd = listenFd;
        this.cpu = cpu;
        this.pinner = pinner;
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

    /** Runs {@code task} on the loop thread; callable from any thread. */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (terminated.getCount() == 0) {
            throw new RejectedExecutionException("event loop " + index + " has terminated");
        }
        tasks.offer(task);
        if (!inLoop() && (int) SLEEPING.getVolatile(this) == 1 && SLEEPING.compareAndSet(this, 1, 0)) {
            EventFd.write(wakeFd, WAKE_VALUE);
        }
    }

    /**
     * Runs {@code task} on the loop thread after {@code delay}; must be called on the loop
     * thread. Returns a timer id for {@link #cancelTimer}, or -1 when the wheel is full.
     */
    public int schedule(Duration delay, Runnable task) {
        assertInLoop();
        Objects.requireNonNull(task, "task");
        int id = wheel.schedule(System.nanoTime(), delay.toNanos(), TIMER_TASK, 0, 0);
        if (id >= 0) {
            timerTasks[id] = task;
        }
        return id;
    }

    /** Cancels a timer from {@link #schedule}; false when it already ran. Loop thread only. */
    public boolean cancelTimer(int timerId) {
        assertInLoop();
        if (timerId >= 0 && timerTasks[timerId] != null && wheel.cancel(timerId)) {
            timerTasks[timerId] = null;
            return true;
        }
        return false;
    }

    private void assertInLoop() {
        if (!inLoop()) {
            throw new IllegalStateException("must run on " + thread.getName() + ", not "
                    + Thread.currentThread().getName() + "; use execute()");
        }
    }

    void requestShutdown() {
        shutdownRequested = true;
        if (terminated.getCount() != 0 && wakeFd >= 0 && SLEEPING.compareAndSet(this, 1, 0)) {
            EventFd.write(wakeFd, WAKE_VALUE);
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
            tearDown();
            started.countDown();
            terminated.countDown();
            return;
        }
        started.countDown();
        try {
            while (!finished()) {
                doWork();
            }
        } finally {
            try {
                closeAll(CloseReason.SHUTDOWN);
                tearDown();
            } finally {
                terminated.countDown();
            }
        }
    }

    private void setUp() {
        if (cpu >= 0) {
            pinnedCpu = pinner.pinCurrentThread(cpu);
        }
        arena = Arena.ofShared();
        table = new ConnectionTable(arena, options.maxConnections, options.userAreaBytes, options.maxConnections * 2);
        pool = new BufferPool(arena, options.regionAllocator, options.bufferSizes, options.bufferCounts);
        outbound = new OutboundQueue(arena, table, pool);
        now = System.nanoTime();
        wheel = new TimingWheel(options.tickNanos, options.wheelSize, options.maxConnections + 1024, now);
        connections = new Connection[options.maxConnections];
        timerTasks = new Runnable[options.maxConnections + 1024];
        events = arena.allocate(Epoll.eventArraySize(options.maxEventsPerPoll), 8);
        readBuffer = arena.allocate(options.readBufferBytes, 64);
        readSlices = new MemorySegment[options.readBufferBytes + 1];
        wakeScratch = arena.allocate(JAVA_LONG);
        epfd = Epoll.create(EPOLL_CLOEXEC);
        wakeFd = EventFd.create(0, EFD_NONBLOCK | EFD_CLOEXEC);
        Epoll.ctl(epfd, EPOLL_CTL_ADD, wakeFd, EPOLLIN, WAKEUP_TOKEN);
        if (listenFd >= 0) {
            Epoll.ctl(epfd, EPOLL_CTL_ADD, listenFd, EPOLLIN, LISTENER_TOKEN);
            accepting = true;
        }
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
            Connection c = connections[slot];
            if (c != null) {
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
        tick = wheel.tickOf(now);
        int work = runTasks();
        work += wheel.advance(now, expiry);
        int ready = poll(work > 0 || !tasks.isEmpty() ? 0 : timeoutMillis());
        for (int i = 0; i < ready; i++) {
            dispatch(Epoll.events(events, i), Epoll.data(events, i));
        }
        stats.passes++;
        return work + ready;
    }

    private int runTasks() {
        int ran = 0;
        Runnable task;
        while (ran < options.maxTasksPerPass && (task = tasks.relaxedPoll()) != null) {
            ran++;
            try {
                task.run();
            } catch (Throwable t) {
                stats.taskFailures++;
                reportUnexpected(t);
            }
        }
        return ran;
    }

    private int timeoutMillis() {
        if (shutdownRequested) {
            return 10;
        }
        long toTick = wheel.nanosToNextTick(now);
        if (toTick < 0) {
            return -1;
        }
        return (int) Math.max(1, (toTick + 999_999) / 1_000_000);
    }

    private int poll(int timeoutMillis) {
        if (timeoutMillis != 0 && options.busyPollNanos > 0) {
            long spinUntil = now + options.busyPollNanos;
            do {
                int n = Epoll.wait(epfd, events, options.maxEventsPerPoll, 0);
                if (n != 0 || !tasks.isEmpty()) {
                    return Math.max(n, 0);
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - spinUntil < 0);
        }
        if (timeoutMillis != 0) {
            SLEEPING.setVolatile(this, 1);
            if (!tasks.isEmpty() || shutdownRequested) {
                timeoutMillis = 0;
            }
        }
        int n = Epoll.wait(epfd, events, options.maxEventsPerPoll, timeoutMillis);
        if (timeoutMillis != 0) {
            SLEEPING.setVolatile(this, 0);
        }
        return Math.max(n, 0);
    }

    private void dispatch(int ready, long token) {
        if (token == WAKEUP_TOKEN) {
            EventFd.read(wakeFd, wakeScratch);
            return;
        }
        if (token == LISTENER_TOKEN) {
            acceptReady();
            return;
        }
        int slot = ConnectionTable.slotOfHandle(token);
        if (!table.isLive(token)) {
            return; // closed earlier in this batch
        }
        if ((ready & EPOLLOUT) != 0) {
            flush(slot);
        }
        if ((ready & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && table.isLive(token)) {
            readReady(slot);
        }
    }

    // ---------------------------------------------------------------- accept

    private void acceptReady() {
        for (int i = 0; i < ACCEPTS_PER_EVENT && accepting; i++) {
            int fd;
            try {
                fd = Sockets.accept(listenFd, SOCK_NONBLOCK | SOCK_CLOEXEC);
            } catch (SyscallException e) {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the listener stays readable, so a level-triggered
                // loop would spin on it. Stop watching it and try again after a pause.
                stats.acceptFailures++;
                pauseAccepting();
                return;
            }
            if (fd < 0) {
                return;
            }
            open(fd);
        }
    }

    private void pauseAccepting() {
        stopAccepting();
        wheel.schedule(now, options.acceptRetryNanos, TIMER_ACCEPT_RESUME, 0, 0);
    }

    private void stopAccepting() {
        if (accepting) {
            Epoll.ctl(epfd, EPOLL_CTL_DEL, listenFd, 0, 0);
            accepting = false;
        }
    }

    private void resumeAccepting() {
        if (!accepting && !shutdownRequested && listenFd >= 0) {
            Epoll.ctl(epfd, EPOLL_CTL_ADD, listenFd, EPOLLIN, LISTENER_TOKEN);
            accepting = true;
        }
    }

    private void open(int fd) {
        int slot = table.allocate(fd);
        if (slot < 0) {
            stats.rejected++;
            Files.close(fd);
            return;
        }
        long handle = table.handleOf(slot);
        Connection c = new Connection(this, slot, handle, fd, table.userArea(slot));
        connections[slot] = c;
        stats.accepted++;
        try {
            configure(fd);
            table.setInt(slot, INTEREST, EPOLLIN | EPOLLRDHUP);
            Epoll.ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, handle);
        } catch (SyscallException e) {
            closeNow(slot, CloseReason.ERROR);
            return;
        }
        table.setLong(slot, LAST_ACTIVE, tick);
        if (options.idleTimeoutNanos > 0) {
            table.setInt(slot, IDLE_TIMER, wheel.schedule(now, options.idleTimeoutNanos, TIMER_IDLE, slot,
                    ConnectionTable.generationOfHandle(handle)));
        }
        try {
            handler.onOpen(c);
        } catch (Throwable t) {
            handlerFailed(slot, t);
        }
    }

    private void configure(int fd) {
        if (options.tcpNoDelay) {
            Sockets.setInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        }
        if (options.receiveBuffer > 0) {
            Sockets.setInt(fd, SOL_SOCKET, SO_RCVBUF, options.receiveBuffer);
        }
        if (options.sendBuffer > 0) {
            Sockets.setInt(fd, SOL_SOCKET, SO_SNDBUF, options.sendBuffer);
        }
        if (options.socketBusyPollMicros > 0) {
            Sockets.setInt(fd, SOL_SOCKET, SO_BUSY_POLL, options.socketBusyPollMicros);
        }
    }

    // ---------------------------------------------------------------- read

    private void readReady(int slot) {
        Connection c = connections[slot];
        int fd = c.fd();
        for (int i = 0; i < READS_PER_EVENT; i++) {
            if (table.hasFlag(slot, FLAG_READ_PAUSED | FLAG_APP_READ_PAUSED | FLAG_INPUT_CLOSED | FLAG_CLOSING)) {
                return;
            }
            long n;
            try {
                n = Uio.read(fd, readBuffer, readBuffer.byteSize());
            } catch (SyscallException e) {
                closeNow(slot, e.errno() == Errno.ECONNRESET ? CloseReason.RESET : CloseReason.ERROR);
                return;
            }
            if (n > 0) {
                stats.bytesIn += n;
                table.setLong(slot, LAST_ACTIVE, tick);
                try {
                    handler.onData(c, slice((int) n));
                } catch (Throwable t) {
                    handlerFailed(slot, t);
                    return;
                }
                if (n < readBuffer.byteSize() || !table.isLive(c.handle())) {
                    return;
                }
            } else if (n == 0) {
                inputClosed(slot, c);
                return;
            } else {
                return; // EAGAIN or EINTR
            }
        }
    }

    /** A view of the first {@code n} bytes of the read buffer, made once per length and reused. */
    private MemorySegment slice(int n) {
        MemorySegment s = readSlices[n];
        if (s == null) {
            s = readBuffer.asSlice(0, n);
            readSlices[n] = s;
        }
        return s;
    }

    private void inputClosed(int slot, Connection c) {
        table.setFlag(slot, FLAG_INPUT_CLOSED);
        updateInterest(slot);
        table.setInt(slot, CLOSE_REASON, CloseReason.PEER_CLOSED.ordinal());
        try {
            handler.onInputClosed(c);
        } catch (Throwable t) {
            handlerFailed(slot, t);
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
        if (wasEmpty && data.isNative()) {
            written = send(slot, c, data, length);
            if (written < 0) {
                return;
            }
        }
        if (written < length) {
            if (!outbound.append(slot, data, written, length - written)) {
                closeNow(slot, CloseReason.POOL_EXHAUSTED);
                return;
            }
            if (wasEmpty && !data.isNative() && flushQuietly(slot, c) < 0) {
                return; // the kernel cannot read the Java heap: heap bytes go out from the queue
            }
            if (outbound.pending(slot) > 0 && !table.hasFlag(slot, FLAG_WANT_WRITE)) {
                table.setFlag(slot, FLAG_WANT_WRITE);
                updateInterest(slot);
            }
            if (outbound.pending(slot) >= options.highWaterMark && !table.hasFlag(slot, FLAG_READ_PAUSED)) {
                table.setFlag(slot, FLAG_READ_PAUSED | FLAG_NOTIFY_WRITABLE);
                updateInterest(slot);
            }
        }
    }

    /** write(2) of native bytes; the count taken (0 on EAGAIN), or -1 when the connection died. */
    private long send(int slot, Connection c, MemorySegment data, long length) {
        long n;
        try {
            n = Uio.write(c.fd(), data, length);
        } catch (SyscallException e) {
            closeNow(slot, CloseReason.RESET);
            return -1;
        }
        if (n <= 0) {
            return 0;
        }
        stats.bytesOut += n;
        table.setLong(slot, LAST_ACTIVE, tick);
        return n;
    }

    /** One writev of the queue; the count taken (0 on EAGAIN), or -1 when the connection died. */
    private long flushQuietly(int slot, Connection c) {
        long n;
        try {
            n = outbound.flush(slot, c.fd());
        } catch (SyscallException e) {
            closeNow(slot, CloseReason.RESET);
            return -1;
        }
        if (n <= 0) {
            return 0;
        }
        stats.bytesOut += n;
        table.setLong(slot, LAST_ACTIVE, tick);
        return n;
    }

    void notifyWhenWritable(Connection c) {
        int slot = liveSlot(c);
        table.setFlag(slot, FLAG_WANT_WRITE | FLAG_NOTIFY_WRITABLE);
        updateInterest(slot);
    }

    void pauseReading(Connection c) {
        int slot = liveSlot(c);
        if (!table.hasFlag(slot, FLAG_APP_READ_PAUSED)) {
            table.setFlag(slot, FLAG_APP_READ_PAUSED);
            updateInterest(slot);
        }
    }

    void resumeReading(Connection c) {
        int slot = liveSlot(c);
        if (table.hasFlag(slot, FLAG_APP_READ_PAUSED)) {
            table.clearFlag(slot, FLAG_APP_READ_PAUSED);
            updateInterest(slot);
        }
    }

    void outputSent(Connection c, long bytes) {
        int slot = liveSlot(c);
        if (bytes > 0) {
            stats.bytesOut += bytes;
            table.setLong(slot, LAST_ACTIVE, tick);
        }
    }

    private void flush(int slot) {
        Connection c = connections[slot];
        if (flushQuietly(slot, c) < 0) {
            return;
        }
        long pending = outbound.pending(slot);
        if (pending == 0) {
            table.clearFlag(slot, FLAG_WANT_WRITE);
            if (table.hasFlag(slot, FLAG_CLOSING)) {
                closeNow(slot, REASONS[table.getInt(slot, CLOSE_REASON)]);
                return;
            }
            if (table.hasFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING)) {
                table.clearFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING);
                shutdownNow(slot, c);
            }
        }
        if (pending <= options.lowWaterMark && table.hasFlag(slot, FLAG_NOTIFY_WRITABLE)) {
            table.clearFlag(slot, FLAG_NOTIFY_WRITABLE | FLAG_READ_PAUSED);
            updateInterest(slot);
            try {
                handler.onWritable(c);
            } catch (Throwable t) {
                handlerFailed(slot, t);
                return;
            }
        }
        if (table.isLive(c.handle())) {
            updateInterest(slot);
        }
    }

    private void updateInterest(int slot) {
        int wanted = 0;
        if (!table.hasFlag(slot, FLAG_READ_PAUSED | FLAG_APP_READ_PAUSED | FLAG_INPUT_CLOSED | FLAG_CLOSING)) {
            wanted |= EPOLLIN | EPOLLRDHUP;
        }
        if (table.hasFlag(slot, FLAG_WANT_WRITE)) {
            wanted |= EPOLLOUT;
        }
        if (wanted != table.getInt(slot, INTEREST)) {
            table.setInt(slot, INTEREST, wanted);
            Epoll.ctl(epfd, EPOLL_CTL_MOD, connections[slot].fd(), wanted, table.handleOf(slot));
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
        if (outbound.pending(slot) == 0) {
            shutdownNow(slot, c);
        } else {
            table.setFlag(slot, FLAG_OUTPUT_SHUTDOWN_PENDING);
        }
    }

    private void shutdownNow(int slot, Connection c) {
        try {
            Sockets.shutdown(c.fd(), SHUT_WR);
        } catch (SyscallException e) {
            closeNow(slot, CloseReason.RESET);
        }
    }

    private void closeGracefully(int slot) {
        if (outbound.pending(slot) == 0) {
            closeNow(slot, REASONS[table.getInt(slot, CLOSE_REASON)]);
        } else if (!table.hasFlag(slot, FLAG_CLOSING)) {
            table.setFlag(slot, FLAG_CLOSING);
            updateInterest(slot);
        }
    }

    private void closeNow(int slot, CloseReason reason) {
        Connection c = connections[slot];
        if (c == null) {
            return;
        }
        int timer = table.getInt(slot, IDLE_TIMER);
        if (timer >= 0) {
            wheel.cancel(timer);
        }
        outbound.discard(slot);
        connections[slot] = null;
        table.free(slot);
        // close(2) also removes the fd from the epoll set.
        Files.close(c.fd());
        stats.closed++;
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
        if (connections[slot] != null) {
            closeNow(slot, CloseReason.HANDLER_ERROR);
        }
    }

    private void reportUnexpected(Throwable t) {
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
            case TIMER_IDLE -> idleCheck(a, b);
            case TIMER_TASK -> {
                Runnable task = timerTasks[timerId];
                timerTasks[timerId] = null;
                try {
                    task.run();
                } catch (Throwable t) {
                    stats.taskFailures++;
                    reportUnexpected(t);
                }
            }
            case TIMER_ACCEPT_RESUME -> resumeAccepting();
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
            table.setInt(slot, IDLE_TIMER, wheel.schedule(now, (idleTicks - quiet) * options.tickNanos,
                    TIMER_IDLE, slot, generation));
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

    /** Connections open on this loop now; loop thread only. */
    int openConnections() {
        return table.used();
    }

    /** Pool buffers in use now; loop thread only. */
    int buffersInUse() {
        return pool.inUse();
    }

    private void tearDown() {
        closeQuietly(epfd);
        closeQuietly(wakeFd);
        closeQuietly(listenFd);
        if (arena != null) {
            arena.close();
        }
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                Files.close(fd);
            } catch (SyscallException ignored) {
                // tearing down: nothing more to do with a descriptor the kernel refuses to close
            }
        }
    }
}
