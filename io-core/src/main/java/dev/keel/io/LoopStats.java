package dev.keel.io;

import dev.keel.io.stats.HistogramSnapshot;
import dev.keel.io.stats.LoopStatsSnapshot;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Counters, gauges and histograms of one loop.
 *
 * <p>Writes: only the loop thread writes, with plain field stores and increments (no fence, no
 * atomic instruction, no allocation), so counting costs next to nothing on the hot path.
 * Reads: the accessors and {@link #snapshot()} may run on any thread and read each field with
 * an opaque read ({@link VarHandle#getOpaque}): a value is never torn and never cached by the
 * reader's JIT across calls, but it may lag the loop by a pass, and two values read one after
 * the other are not from one instant (accepted may already count a connection that closed
 * does not yet). That is what metrics need; nothing here orders other memory.
 *
 * <p>Loop pass time: each pass records its <em>busy</em> time, from the clock read at the start
 * of the pass to its end minus the time spent blocked in epoll_wait or io_uring_enter waiting
 * for events (measured around the wait the poller announces with the loop's sleep protocol). A
 * loop that is idle most of the time thus shows short passes instead of passes as long as its
 * waits, and a pass that took long is one that kept the thread from its sockets. Spinning
 * before blocking ({@link LoopOptions.Builder#busyPoll}) counts as busy: the thread is on CPU.
 * A pass busier than {@link LoopOptions.Builder#stallThreshold} is a stall.
 */
public final class LoopStats {
    /** Pass busy-time buckets: 2^10 ns (about 1 us) to 2^30 ns (about 1.07 s). */
    static final int PASS_TIME_MIN_EXPONENT = 10;
    static final int PASS_TIME_BUCKETS = 21;
    /** Syscalls-per-pass buckets: 1, 2, 4, ... 256. */
    static final int SYSCALL_BUCKETS = 9;

    private static final VarHandle PASSES = field("passes");
    private static final VarHandle ACCEPTED = field("accepted");
    private static final VarHandle CLOSED = field("closed");
    private static final VarHandle REJECTED = field("rejected");
    private static final VarHandle ACCEPT_FAILURES = field("acceptFailures");
    private static final VarHandle ACCEPT_ABORTED = field("acceptAborted");
    private static final VarHandle CONNECTS_ATTEMPTED = field("connectsAttempted");
    private static final VarHandle CONNECTS_SUCCEEDED = field("connectsSucceeded");
    private static final VarHandle CONNECTS_FAILED = field("connectsFailed");
    private static final VarHandle BYTES_IN = field("bytesIn");
    private static final VarHandle BYTES_OUT = field("bytesOut");
    private static final VarHandle FILE_BYTES_OUT = field("fileBytesOut");
    private static final VarHandle FILES_SENT = field("filesSent");
    private static final VarHandle FILE_FAILURES = field("fileFailures");
    private static final VarHandle FILE_PIPES = field("filePipes");
    private static final VarHandle IDLE_TIMEOUTS = field("idleTimeouts");
    private static final VarHandle TIMERS_FIRED = field("timersFired");
    private static final VarHandle HANDLER_FAILURES = field("handlerFailures");
    private static final VarHandle TASK_FAILURES = field("taskFailures");
    private static final VarHandle LOOP_FAILURES = field("loopFailures");
    private static final VarHandle RECEIVE_STARVATIONS = field("receiveStarvations");
    private static final VarHandle COMPLETION_OVERFLOWS = field("completionOverflows");
    private static final VarHandle SYSCALLS = field("syscalls");
    private static final VarHandle STALLS = field("stalls");
    private static final VarHandle OPEN_CONNECTIONS = field("openConnections");
    private static final VarHandle CONNECTION_CAPACITY = field("connectionCapacity");
    private static final VarHandle BUFFERS_IN_USE = field("buffersInUse");
    private static final VarHandle BUFFER_CAPACITY = field("bufferCapacity");

    long passes;
    long accepted;
    long closed;
    long rejected;
    long acceptFailures;
    long acceptAborted;
    /** Outbound connects asked of the loop ({@link EventLoop#connect}), each one either succeeded, failed or under way. */
    long connectsAttempted;
    long connectsSucceeded;
    long connectsFailed;
    long bytesIn;
    long bytesOut;
    /** Bytes of file regions ({@link Connection#writeFile}) the sockets took, also counted in bytesOut. */
    long fileBytesOut;
    long filesSent;
    long fileFailures;
    long idleTimeouts;
    long timersFired;
    long handlerFailures;
    long taskFailures;
    long loopFailures;
    long receiveStarvations;
    long completionOverflows;
    /** System calls the loop thread made; pollers and {@link #countSyscalls} add to it. */
    long syscalls;
    long stalls;
    // Gauges, set at the end of each pass (and the capacities once, at start).
    long openConnections;
    long connectionCapacity;
    long buffersInUse;
    /** Pipes the transport holds open for file regions (io_uring's splice; idle or lent). */
    long filePipes;
    long bufferCapacity;

    private final Log2Histogram passBusyNanos = new Log2Histogram(PASS_TIME_MIN_EXPONENT, PASS_TIME_BUCKETS);
    private final Log2Histogram syscallsPerPass = new Log2Histogram(0, SYSCALL_BUCKETS);
    private final DatagramStats datagrams = new DatagramStats();
    private final int loop;
    private final long stallThresholdNanos;
    // The pass in progress; loop thread only.
    private long passStart;
    private long waitStart;
    private long waitNanos;
    private long passStartSyscalls;

    LoopStats(int loop, long stallThresholdNanos) {
        this.loop = loop;
        this.stallThresholdNanos = stallThresholdNanos;
    }

    private static VarHandle field(String name) {
        try {
            return MethodHandles.lookup().findVarHandle(LoopStats.class, name, long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // ---------------------------------------------------------------- loop thread

    /** A pass began at {@code nowNanos} (the pass's clock). */
    void passStarted(long nowNanos) {
        passStart = nowNanos;
        waitNanos = 0;
        passStartSyscalls = syscalls;
    }

    /** The poller is about to block waiting for events. */
    void waitStarted() {
        waitStart = System.nanoTime();
    }

    /** The poller's wait returned. */
    void waitEnded() {
        waitNanos += System.nanoTime() - waitStart;
    }

    /**
     * The pass ended: counts it, records its busy time and syscalls, samples the gauges, and
     * reports a stall (a {@link LoopStallEvent} while JFR records one).
     */
    void passEnded(int open, int buffers) {
        long busy = System.nanoTime() - passStart - waitNanos;
        long calls = syscalls - passStartSyscalls;
        passes++;
        passBusyNanos.record(busy);
        syscallsPerPass.record(calls);
        openConnections = open;
        buffersInUse = buffers;
        // Branch-free: a stall is rare, and the first one to take a branch that compiled code has
        // never seen taken deoptimises the pass, which re-allocates objects escape analysis had
        // removed. The JFR check is a branch, but its outcome changes only when a recording starts.
        long stalled = (stallThresholdNanos - busy) >>> 63;
        stalls += stalled;
        if (LoopEvents.stallEnabled() && stalled != 0) {
            LoopEvents.stall(loop, busy, passes, calls);
        }
    }

    void capacities(int connections, int buffers) {
        connectionCapacity = connections;
        bufferCapacity = buffers;
    }

    /**
     * Counts {@code n} system calls the application made on this loop's thread (sendfile,
     * splice, open, ...) so that {@link #syscalls()} covers the whole thread, not only the
     * transport's own calls. Loop thread only; a plain increment.
     */
    public void countSyscalls(int n) {
        syscalls += n;
    }

    // ---------------------------------------------------------------- any thread

    /** A copy of every value, each read opaquely (see the class comment); any thread. */
    public LoopStatsSnapshot snapshot() {
        return new LoopStatsSnapshot(loop, passes(), accepted(), closed(), rejected(), acceptFailures(),
                openConnections(), connectionCapacity(), bytesIn(), bytesOut(), idleTimeouts(), timersFired(),
                syscalls(), stalls(), buffersInUse(), bufferCapacity(), handlerFailures(), taskFailures(),
                loopFailures(), receiveStarvations(), completionOverflows(), acceptAborted(), connectsAttempted(),
                connectsSucceeded(), connectsFailed(), passBusyNanos.snapshot(), syscallsPerPass.snapshot(),
                datagrams.snapshot());
    }

    /** The index of the loop these are the counters of. */
    public int loop() {
        return loop;
    }

    /** Loop passes (duty cycles) run. */
    public long passes() {
        return (long) PASSES.getOpaque(this);
    }

    /** Connections accepted. */
    public long accepted() {
        return (long) ACCEPTED.getOpaque(this);
    }

    /** Connections closed, for any reason (counted once the kernel gave back all of them). */
    public long closed() {
        return (long) CLOSED.getOpaque(this);
    }

    /**
     * Accepted sockets closed unserved: the connection table was full, or (io_uring) an accept
     * completed after accepting had stopped.
     */
    public long rejected() {
        return (long) REJECTED.getOpaque(this);
    }

    /**
     * Accept failures that paused accepting for a retry later: the process or system out of
     * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), or an error no connection
     * explains (EINVAL from a listener shut down, ...; logged).
     */
    public long acceptFailures() {
        return (long) ACCEPT_FAILURES.getOpaque(this);
    }

    /**
     * Accepts that failed for the one connection only — it was aborted while queued
     * (ECONNABORTED), refused by a firewall (EPERM), or a network error accept(2) passed on —
     * after which accepting went on.
     */
    public long acceptAborted() {
        return (long) ACCEPT_ABORTED.getOpaque(this);
    }

    /**
     * Outbound connects the loop started ({@link EventLoop#connect}, a {@link Reconnector}'s
     * attempts included): each one has succeeded, failed, or is still under way, so
     * attempted - succeeded - failed is the number in progress.
     */
    public long connectsAttempted() {
        return (long) CONNECTS_ATTEMPTED.getOpaque(this);
    }

    /** Outbound connects that completed: their handler heard {@code onOpen}. */
    public long connectsSucceeded() {
        return (long) CONNECTS_SUCCEEDED.getOpaque(this);
    }

    /**
     * Outbound connects that never opened — refused, unreachable, timed out, no room on the loop,
     * the loop stopping: their handler heard {@code onConnectFailed}.
     */
    public long connectsFailed() {
        return (long) CONNECTS_FAILED.getOpaque(this);
    }

    /** Bytes received from connections. */
    public long bytesIn() {
        return (long) BYTES_IN.getOpaque(this);
    }

    /** Bytes the sockets took, queued writes and file regions ({@link Connection#writeFile}) alike. */
    public long bytesOut() {
        return (long) BYTES_OUT.getOpaque(this);
    }

    /**
     * Bytes of file regions ({@link Connection#writeFile}) the sockets took, carried by the
     * loop's transport (epoll: sendfile; io_uring: splice requests in the ring); part of
     * {@link #bytesOut()}.
     */
    public long fileBytesOut() {
        return (long) FILE_BYTES_OUT.getOpaque(this);
    }

    /** File regions sent to their last byte. */
    public long filesSent() {
        return (long) FILES_SENT.getOpaque(this);
    }

    /**
     * Pipes the transport holds open for file regions, idle or lent (io_uring splices through
     * them; epoll needs none), as of the last pass; two descriptors each.
     */
    public long filePipes() {
        return (long) FILE_PIPES.getOpaque(this);
    }

    /** File regions that failed (the file could not be read, or ended early). */
    public long fileFailures() {
        return (long) FILE_FAILURES.getOpaque(this);
    }

    /** Connections closed by the idle timeout. */
    public long idleTimeouts() {
        return (long) IDLE_TIMEOUTS.getOpaque(this);
    }

    /** Timers of the timing wheel that fired: idle checks, scheduled tasks, accept retries. */
    public long timersFired() {
        return (long) TIMERS_FIRED.getOpaque(this);
    }

    /** Handler callbacks that threw (each closed its connection). */
    public long handlerFailures() {
        return (long) HANDLER_FAILURES.getOpaque(this);
    }

    /** Unexpected failures inside a loop pass, logged and survived. */
    public long loopFailures() {
        return (long) LOOP_FAILURES.getOpaque(this);
    }

    /**
     * io_uring: multishot receives that stopped because the provided buffer ring was empty
     * (ENOBUFS) and were armed again once buffers came back. Many mean too few provided buffers.
     */
    public long receiveStarvations() {
        return (long) RECEIVE_STARVATIONS.getOpaque(this);
    }

    /**
     * io_uring: times the completion queue was found overflowed; the kernel kept the extra
     * completions (IORING_FEAT_NODROP) and the loop brought them in. Also counts io_uring_enter
     * refusing for want of room (EBUSY, EAGAIN), answered by reaping. Many mean too small a ring.
     */
    public long completionOverflows() {
        return (long) COMPLETION_OVERFLOWS.getOpaque(this);
    }

    /** Tasks and timers that threw. */
    public long taskFailures() {
        return (long) TASK_FAILURES.getOpaque(this);
    }

    /**
     * System calls made by the loop thread: epoll_wait or io_uring_enter, accept4, read, write,
     * writev, epoll_ctl, setsockopt, shutdown, close, eventfd reads, and what the application
     * added with {@link #countSyscalls}. Under io_uring the socket work itself is done by the
     * kernel from the ring, so only the enters (and eventfd reads) count.
     */
    public long syscalls() {
        return (long) SYSCALLS.getOpaque(this);
    }

    /** Passes whose busy time exceeded the stall threshold. */
    public long stalls() {
        return (long) STALLS.getOpaque(this);
    }

    /** Connections open at the end of the last pass (closed ones the kernel still holds included). */
    public long openConnections() {
        return (long) OPEN_CONNECTIONS.getOpaque(this);
    }

    /** Slots of the connection table: the most connections the loop serves at once. */
    public long connectionCapacity() {
        return (long) CONNECTION_CAPACITY.getOpaque(this);
    }

    /** Buffers of the loop's pool in use at the end of the last pass (io_uring: lent to the kernel too). */
    public long buffersInUse() {
        return (long) BUFFERS_IN_USE.getOpaque(this);
    }

    /** Buffers in the loop's pool. */
    public long bufferCapacity() {
        return (long) BUFFER_CAPACITY.getOpaque(this);
    }

    /** Busy time per pass, in nanoseconds (see the class comment). */
    public HistogramSnapshot passBusyNanos() {
        return passBusyNanos.snapshot();
    }

    /** System calls per pass. */
    public HistogramSnapshot syscallsPerPass() {
        return syscallsPerPass.snapshot();
    }

    /** The counters of this loop's datagram endpoints. */
    public DatagramStats datagrams() {
        return datagrams;
    }
}
