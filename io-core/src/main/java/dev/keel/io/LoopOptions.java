package dev.keel.io;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of every loop of a group: sizes of the off-heap table and pool, water marks,
 * timeouts, socket options and idling. Immutable; made with {@link #builder()}.
 */
public final class LoopOptions {
    /** Application timers a loop has room for beyond one per connection, by default. */
    private static final int DEFAULT_EXTRA_TIMERS = 1024;
    /** {@link Builder#sqPoll}'s cpu meaning "the CPU of the loop the ring belongs to". */
    public static final int SQPOLL_ON_LOOP_CPU = -2;

    final int maxConnections;
    final int userAreaBytes;
    final int readBufferBytes;
    final int[] bufferSizes;
    final int[] bufferCounts;
    final long highWaterMark;
    final long lowWaterMark;
    final long idleTimeoutNanos;
    final long tickNanos;
    final int wheelSize;
    final int maxTimers;
    final boolean tcpNoDelay;
    final int receiveBuffer;
    final int sendBuffer;
    final int backlog;
    final long busyPollNanos;
    final int socketBusyPollMicros;
    final int maxEventsPerPoll;
    final int maxTasksPerPass;
    final int maxPendingTasks;
    final long shutdownDrainNanos;
    final long acceptRetryNanos;
    final RegionAllocator regionAllocator;
    final int ringEntries;
    final int providedBufferBytes;
    final int providedBufferCount;
    final boolean directDescriptors;
    final boolean registeredBuffers;
    final long sqPollIdleNanos;
    final int sqPollCpu;
    final int zeroCopySendThreshold;
    final long stallThresholdNanos;

    private LoopOptions(Builder b) {
        maxConnections = b.maxConnections;
        userAreaBytes = b.userAreaBytes;
        readBufferBytes = b.readBufferBytes;
        bufferSizes = b.bufferSizes.clone();
        bufferCounts = b.bufferCounts.clone();
        highWaterMark = b.highWaterMark;
        lowWaterMark = b.lowWaterMark;
        idleTimeoutNanos = b.idleTimeoutNanos;
        tickNanos = b.tickNanos;
        wheelSize = b.wheelSize;
        maxTimers = b.maxTimers < 0 ? b.maxConnections + DEFAULT_EXTRA_TIMERS : b.maxTimers;
        tcpNoDelay = b.tcpNoDelay;
        receiveBuffer = b.receiveBuffer;
        sendBuffer = b.sendBuffer;
        backlog = b.backlog;
        busyPollNanos = b.busyPollNanos;
        socketBusyPollMicros = b.socketBusyPollMicros;
        maxEventsPerPoll = b.maxEventsPerPoll;
        maxTasksPerPass = b.maxTasksPerPass;
        maxPendingTasks = b.maxPendingTasks;
        shutdownDrainNanos = b.shutdownDrainNanos;
        acceptRetryNanos = b.acceptRetryNanos;
        regionAllocator = b.regionAllocator;
        ringEntries = b.ringEntries;
        providedBufferBytes = b.providedBufferBytes;
        providedBufferCount = b.providedBufferCount;
        directDescriptors = b.directDescriptors;
        registeredBuffers = b.registeredBuffers;
        sqPollIdleNanos = b.sqPollIdleNanos;
        sqPollCpu = b.sqPollCpu;
        zeroCopySendThreshold = b.zeroCopySendThreshold;
        stallThresholdNanos = b.stallThresholdNanos;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The default options (what {@code builder().build()} gives). */
    public static LoopOptions defaults() {
        return builder().build();
    }

    /** Off-heap bytes one loop reserves for its buffer pool. */
    public long poolBytes() {
        long bytes = 0;
        for (int i = 0; i < bufferSizes.length; i++) {
            bytes += (long) bufferSizes[i] * bufferCounts[i];
        }
        return bytes;
    }

    // ---------------------------------------------------------------- what was set (read by the transports)

    /** Tasks a loop keeps queued at most ({@link Builder#maxPendingTasks}). */
    public int maxPendingTasks() {
        return maxPendingTasks;
    }

    /** Connections one loop holds at most (its table's capacity). */
    public int maxConnections() {
        return maxConnections;
    }

    /** Bytes of the loop's read buffer. */
    public int readBufferBytes() {
        return readBufferBytes;
    }

    /** The pool's buffer size classes, smallest first (a copy). */
    public int[] bufferSizes() {
        return bufferSizes.clone();
    }

    /** Buffers per size class (a copy). */
    public int[] bufferCounts() {
        return bufferCounts.clone();
    }

    /** How long a loop spins polling before it blocks; 0: it blocks at once. */
    public long busyPollNanos() {
        return busyPollNanos;
    }

    /** Readiness events or completions handled per poll at most. */
    public int maxEventsPerPoll() {
        return maxEventsPerPoll;
    }

    /** io_uring: submission queue entries. */
    public int ringEntries() {
        return ringEntries;
    }

    /** io_uring: bytes of each provided receive buffer. */
    public int providedBufferBytes() {
        return providedBufferBytes;
    }

    /** io_uring: provided receive buffers per loop. */
    public int providedBufferCount() {
        return providedBufferCount;
    }

    /** io_uring: whether accepted sockets live only in the ring's fixed file table. */
    public boolean directDescriptors() {
        return directDescriptors;
    }

    /** io_uring: whether the pool is registered with the ring. */
    public boolean registeredBuffers() {
        return registeredBuffers;
    }

    /** io_uring: SQPOLL thread idle time in nanoseconds, or -1 without SQPOLL. */
    public long sqPollIdleNanos() {
        return sqPollIdleNanos;
    }

    /** io_uring: the CPU of the SQPOLL thread: -1 unpinned, {@link #SQPOLL_ON_LOOP_CPU} the loop's own. */
    public int sqPollCpu() {
        return sqPollCpu;
    }

    /** io_uring: sends of at least this many bytes use SEND_ZC (0: never). */
    public int zeroCopySendThreshold() {
        return zeroCopySendThreshold;
    }

    /** Builder with the defaults documented on each setter. */
    public static final class Builder {
        private int maxConnections = 16_384;
        private int userAreaBytes;
        private int readBufferBytes = 64 * 1024;
        private int[] bufferSizes = {2 * 1024, 16 * 1024, 64 * 1024};
        private int[] bufferCounts = {1024, 256, 256};
        private long highWaterMark = 1024 * 1024;
        private long lowWaterMark = 256 * 1024;
        private long idleTimeoutNanos;
        private long tickNanos = Duration.ofMillis(10).toNanos();
        private int wheelSize = 512;
        private int maxTimers = -1;
        private boolean tcpNoDelay = true;
        private int receiveBuffer;
        private int sendBuffer;
        private int backlog = 1024;
        private long busyPollNanos;
        private int socketBusyPollMicros;
        private int maxEventsPerPoll = 256;
        private int maxTasksPerPass = 1024;
        private int maxPendingTasks = 65_536;
        private long shutdownDrainNanos = Duration.ofSeconds(2).toNanos();
        private long acceptRetryNanos = Duration.ofMillis(100).toNanos();
        private RegionAllocator regionAllocator;
        private int ringEntries = 2048;
        private int providedBufferBytes = 16 * 1024;
        private int providedBufferCount = 512;
        private boolean directDescriptors;
        private boolean registeredBuffers;
        private long sqPollIdleNanos = -1;
        private int sqPollCpu = -1;
        private int zeroCopySendThreshold;
        private long stallThresholdNanos = Duration.ofMillis(10).toNanos();

        private Builder() {
        }

        /** Connections one loop can hold at once (default 16,384): the size of its table. */
        public Builder maxConnections(int n) {
            maxConnections = positive("maxConnections", n);
            return this;
        }

        /** Off-heap bytes per connection for the application (default 0). */
        public Builder userAreaBytes(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("userAreaBytes must be >= 0: " + n);
            }
            userAreaBytes = (n + 7) & ~7;
            return this;
        }

        /**
         * Bytes read per read(2) into the loop's read buffer (default 64 KiB). On io_uring the
         * handler sees at most this much per call too: a receive buffer is never larger.
         */
        public Builder readBufferBytes(int n) {
            readBufferBytes = positive("readBufferBytes", n);
            return this;
        }

        /** Buffer size classes (ascending) and how many buffers of each (default 2K x1024, 16K x256, 64K x256). */
        public Builder buffers(int[] sizes, int[] counts) {
            if (sizes.length == 0 || sizes.length != counts.length) {
                throw new IllegalArgumentException("buffer sizes and counts must pair up");
            }
            for (int i = 0; i < sizes.length; i++) {
                positive("buffer size", sizes[i]);
                positive("buffer count", counts[i]);
            }
            bufferSizes = sizes.clone();
            bufferCounts = counts.clone();
            return this;
        }

        /**
         * Queued output that pauses reading (default 1 MiB) and the level that resumes it
         * (default 256 KiB): the writing connection's own reading, or its source's
         * ({@link Connection#feedFrom}).
         */
        public Builder waterMarks(long low, long high) {
            if (low < 0 || high <= low) {
                throw new IllegalArgumentException("water marks need 0 <= low < high: " + low + ", " + high);
            }
            lowWaterMark = low;
            highWaterMark = high;
            return this;
        }

        /** Closes connections idle this long (default: never). */
        public Builder idleTimeout(Duration timeout) {
            idleTimeoutNanos = Objects.requireNonNull(timeout).toNanos();
            if (idleTimeoutNanos < 0) {
                throw new IllegalArgumentException("idle timeout must not be negative: " + timeout);
            }
            return this;
        }

        /**
         * Application timers ({@link EventLoop#schedule}) one loop keeps pending at most (default:
         * {@link #maxConnections} + 1024, one per connection and some to spare); one more is
         * refused with RejectedExecutionException. The loop's own timers (idle timeouts, accept
         * retries) have room of their own on top of these. Each costs about 40 heap bytes.
         */
        public Builder maxTimers(int n) {
            maxTimers = positive("maxTimers", n);
            return this;
        }

        /**
         * Tasks ({@link EventLoop#execute}) one loop keeps queued at most (default 65,536, rounded
         * up to a power of two); one more is refused with RejectedExecutionException rather than
         * queued without bound behind a loop that cannot keep up. The queue grows in chunks of
         * 256 references as it fills, so an idle loop holds about 1 KiB of it.
         */
        public Builder maxPendingTasks(int n) {
            if (n < 256) {
                throw new IllegalArgumentException("maxPendingTasks must be at least 256: " + n);
            }
            maxPendingTasks = n;
            return this;
        }

        /** Granularity of the timing wheel (default 10 ms). */
        public Builder tick(Duration tick) {
            tickNanos = Objects.requireNonNull(tick).toNanos();
            if (tickNanos <= 0) {
                throw new IllegalArgumentException("tick must be positive: " + tick);
            }
            return this;
        }

        /** TCP_NODELAY on accepted sockets (default on). */
        public Builder tcpNoDelay(boolean on) {
            tcpNoDelay = on;
            return this;
        }

        /** SO_RCVBUF and SO_SNDBUF of accepted sockets; 0 keeps the kernel's (default). */
        public Builder socketBuffers(int receive, int send) {
            if (receive < 0 || send < 0) {
                throw new IllegalArgumentException("socket buffer sizes must be >= 0");
            }
            receiveBuffer = receive;
            sendBuffer = send;
            return this;
        }

        /** listen(2) backlog (default 1024). */
        public Builder backlog(int n) {
            backlog = positive("backlog", n);
            return this;
        }

        /**
         * Spin for up to this long before blocking (default 0: block at once): on epoll_wait
         * with timeout 0; on io_uring on its completion queue (with SQPOLL this makes no system
         * call at all while the kernel thread is awake).
         */
        public Builder busyPoll(Duration spin) {
            busyPollNanos = Objects.requireNonNull(spin).toNanos();
            return this;
        }

        /** SO_BUSY_POLL in microseconds on accepted sockets (default 0: off). */
        public Builder socketBusyPoll(int micros) {
            if (micros < 0) {
                throw new IllegalArgumentException("SO_BUSY_POLL must be >= 0");
            }
            socketBusyPollMicros = micros;
            return this;
        }

        /** How long a shutdown lets pending output drain before closing anyway (default 2 s). */
        public Builder shutdownDrain(Duration drain) {
            shutdownDrainNanos = Objects.requireNonNull(drain).toNanos();
            return this;
        }

        /** How long accepting pauses after EMFILE/ENFILE before it is tried again (default 100 ms). */
        public Builder acceptRetry(Duration pause) {
            acceptRetryNanos = Objects.requireNonNull(pause).toNanos();
            return this;
        }

        /**
         * Where the buffer pool and connection table come from. By default a pinned loop binds
         * them to its CPU's NUMA node (checked at start-up) and an unpinned one uses
         * {@link RegionAllocator#anonymous()}.
         */
        public Builder regionAllocator(RegionAllocator allocator) {
            regionAllocator = Objects.requireNonNull(allocator);
            return this;
        }

        // ------------------------------------------------------------ io_uring only

        /**
         * io_uring: submission queue entries per loop (default 2048, a power of two up to 32768).
         * The completion queue gets eight times as many (at most 65536), room for the bursts of
         * multishot receives; completions beyond it wait in the kernel and are not lost.
         */
        public Builder ringEntries(int n) {
            if (n <= 0 || n > 32768 || Integer.bitCount(n) != 1) {
                throw new IllegalArgumentException("ring entries must be a power of two in 1-32768: " + n);
            }
            ringEntries = n;
            return this;
        }

        /**
         * io_uring: the provided buffer ring that multishot receives fill: {@code count} buffers
         * (a power of two) of the smallest pool size class of at least {@code bytes} (default
         * 512 of 16 KiB), added to that class of the pool so output keeps all of its own.
         */
        public Builder providedBuffers(int bytes, int count) {
            positive("provided buffer size", bytes);
            if (count <= 0 || count > 32768 || Integer.bitCount(count) != 1) {
                throw new IllegalArgumentException("provided buffer count must be a power of two in 1-32768: " + count);
            }
            providedBufferBytes = bytes;
            providedBufferCount = count;
            return this;
        }

        /**
         * io_uring: accept into fixed (direct) file slots instead of process descriptors
         * (default off). Saves the kernel a file lookup per operation, but a connection then has
         * no descriptor for other system calls ({@link Connection#peerAddress} answers false), and the
         * socket options are set on the listener, from which accepted sockets inherit them.
         */
        public Builder directDescriptors(boolean on) {
            directDescriptors = on;
            return this;
        }

        /**
         * io_uring: register the buffer pool with the ring as one fixed buffer, so that
         * zero-copy sends ({@link #zeroCopySendThreshold}) reference it
         * (IORING_RECVSEND_FIXED_BUF) instead of pinning its pages on every send (default off).
         * The kernel takes fixed buffers for zero-copy sends only; a copying send has nothing to
         * pin, so without a threshold this only registers the pool.
         */
        public Builder registeredBuffers(boolean on) {
            registeredBuffers = on;
            return this;
        }

        /**
         * io_uring: a kernel thread polls the submission queue (IORING_SETUP_SQPOLL), so sends
         * and receives are submitted without a system call while it is awake; it sleeps after
         * {@code idle} without work. {@code cpu} pins that thread of every loop to that one CPU,
         * -1 leaves it unpinned; {@link #sqPollOnLoopCpu} pins each loop's to the loop's own CPU.
         * Default off. It costs a CPU busy for {@code idle} after each burst.
         */
        public Builder sqPoll(Duration idle, int cpu) {
            long nanos = Objects.requireNonNull(idle).toNanos();
            if (nanos < 0 || cpu < -1) {
                throw new IllegalArgumentException("SQPOLL needs idle >= 0 and cpu >= -1: " + idle + ", " + cpu);
            }
            sqPollIdleNanos = nanos;
            sqPollCpu = cpu;
            return this;
        }

        /**
         * {@link #sqPoll} with each loop's SQPOLL thread pinned to the CPU its loop runs on
         * (IORING_SETUP_SQ_AFF), or unpinned when the loop is unpinned.
         */
        public Builder sqPollOnLoopCpu(Duration idle) {
            sqPoll(idle, -1);
            sqPollCpu = SQPOLL_ON_LOOP_CPU;
            return this;
        }

        /**
         * io_uring: sends of at least {@code bytes} go out with IORING_OP_SEND_ZC, the kernel
         * reading the pool buffer in place instead of copying it; 0 (default) never. On loopback
         * the copy is cheaper than the page pinning it saves, hence off.
         */
        public Builder zeroCopySendThreshold(int bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("zero-copy send threshold must be >= 0: " + bytes);
            }
            zeroCopySendThreshold = bytes;
            return this;
        }

        /**
         * A pass whose busy part (the pass minus its blocking wait) takes longer than this is a
         * stall: counted in {@link LoopStats#stalls()} and, while JFR records, a
         * {@code dev.keel.io.LoopStall} event (default 10 ms).
         */
        public Builder stallThreshold(Duration threshold) {
            stallThresholdNanos = Objects.requireNonNull(threshold).toNanos();
            if (stallThresholdNanos <= 0) {
                throw new IllegalArgumentException("stall threshold must be positive: " + threshold);
            }
            return this;
        }

        /**
         * The options; throws {@link IllegalArgumentException} when the read buffer is out of
         * proportion to the buffer pool (more than 64 of its largest buffers).
         */
        public LoopOptions build() {
            if (readBufferBytes > bufferSizes[bufferSizes.length - 1] * 64) {
                throw new IllegalArgumentException("read buffer is out of proportion to the pool");
            }
            return new LoopOptions(this);
        }

        private static int positive(String what, int n) {
            if (n <= 0) {
                throw new IllegalArgumentException(what + " must be positive: " + n);
            }
            return n;
        }
    }
}
