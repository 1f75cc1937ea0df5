package dev.keel.io;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of every loop of a group: sizes of the off-heap table and pool, water marks,
 * timeouts, socket options and idling. Immutable; made with {@link #builder()}.
 */
public final class LoopOptions {
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
    final boolean tcpNoDelay;
    final int receiveBuffer;
    final int sendBuffer;
    final int backlog;
    final long busyPollNanos;
    final int socketBusyPollMicros;
    final int maxEventsPerPoll;
    final int maxTasksPerPass;
    final long shutdownDrainNanos;
    final long acceptRetryNanos;
    final RegionAllocator regionAllocator;

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
        tcpNoDelay = b.tcpNoDelay;
        receiveBuffer = b.receiveBuffer;
        sendBuffer = b.sendBuffer;
        backlog = b.backlog;
        busyPollNanos = b.busyPollNanos;
        socketBusyPollMicros = b.socketBusyPollMicros;
        maxEventsPerPoll = b.maxEventsPerPoll;
        maxTasksPerPass = b.maxTasksPerPass;
        shutdownDrainNanos = b.shutdownDrainNanos;
        acceptRetryNanos = b.acceptRetryNanos;
        regionAllocator = b.regionAllocator;
    }

    public static Builder builder() {
        return new Builder();
    }

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
        private boolean tcpNoDelay = true;
        private int receiveBuffer;
        private int sendBuffer;
        private int backlog = 1024;
        private long busyPollNanos;
        private int socketBusyPollMicros;
        private int maxEventsPerPoll = 256;
        private int maxTasksPerPass = 1024;
        private long shutdownDrainNanos = Duration.ofSeconds(2).toNanos();
        private long acceptRetryNanos = Duration.ofMillis(100).toNanos();
        private RegionAllocator regionAllocator;

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

        /** Bytes read per read(2) into the loop's read buffer (default 64 KiB). */
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

        /** Queued output that pauses reading (default 1 MiB) and the level that resumes it (default 256 KiB). */
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

        /** Spin on epoll_wait(0) for up to this long before blocking (default 0: block at once). */
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
