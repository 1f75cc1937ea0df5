package dev.keel.io;

import java.net.InetSocketAddress;

/**
 * How a datagram endpoint is made: batch size per system call (recvmmsg/sendmmsg) or buffers in
 * the io_uring provided ring, the largest datagram received whole, the send queue's capacity,
 * SO_REUSEPORT, socket buffer sizes, and an optional peer to connect to.
 */
public final class DatagramOptions {
    final int batchSize;
    final int maxDatagramSize;
    final int sendQueue;
    final int receiveBuffers;
    final boolean reusePort;
    final int socketReceiveBuffer;
    final int socketSendBuffer;
    final InetSocketAddress connectTo;
    final int sendSegmentSize;
    final boolean receiveGro;
    final boolean receiveTimestamps;
    final boolean transmitTimestamps;

    private DatagramOptions(Builder b) {
        receiveTimestamps = b.receiveTimestamps;
        transmitTimestamps = b.transmitTimestamps;
        receiveGro = b.receiveGro;
        sendSegmentSize = b.sendSegmentSize;
        batchSize = b.batchSize;
        maxDatagramSize = b.maxDatagramSize;
        sendQueue = b.sendQueue;
        receiveBuffers = b.receiveBuffers;
        reusePort = b.reusePort;
        socketReceiveBuffer = b.socketReceiveBuffer;
        socketSendBuffer = b.socketSendBuffer;
        connectTo = b.connectTo;
    }

    /** Every option at its default: batches of 32, 2,048-byte datagrams, a send queue of 256, SO_REUSEPORT. */
    public static DatagramOptions defaults() {
        return builder().build();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Datagrams per recvmmsg/sendmmsg (epoll). */
    public int batchSize() {
        return batchSize;
    }

    /** Bytes of the largest datagram received whole. */
    public int maxDatagramSize() {
        return maxDatagramSize;
    }

    /** Datagrams the send queue holds at most. */
    public int sendQueue() {
        return sendQueue;
    }

    /** The peer the endpoint is connected to, or null. */
    public InetSocketAddress connectTo() {
        return connectTo;
    }

    /** Makes {@link DatagramOptions}; each setter checks its value at once. */
    public static final class Builder {
        /** The most recvmmsg/sendmmsg batch: Linux's UIO_MAXIOV. */
        public static final int MAX_BATCH = 1024;
        /** The largest UDP payload over IPv4. */
        public static final int MAX_DATAGRAM = 65_507;

        private int batchSize = 32;
        private int maxDatagramSize = 2048;
        private int sendQueue = 256;
        private int receiveBuffers = 256;
        private boolean reusePort = true;
        private int socketReceiveBuffer;
        private int socketSendBuffer;
        private InetSocketAddress connectTo;
        private int sendSegmentSize;
        private boolean receiveGro;
        private boolean receiveTimestamps;
        private boolean transmitTimestamps;

        private Builder() {
        }

        /** Datagrams per recvmmsg/sendmmsg (epoll), 1 to {@link #MAX_BATCH}; default 32. */
        public Builder batchSize(int n) {
            if (n < 1 || n > MAX_BATCH) {
                throw new IllegalArgumentException("batchSize must be 1.." + MAX_BATCH + ": " + n);
            }
            batchSize = n;
            return this;
        }

        /** Bytes received whole per datagram (longer ones are reported truncated), 1 to {@link #MAX_DATAGRAM}. */
        public Builder maxDatagramSize(int n) {
            if (n < 1 || n > MAX_DATAGRAM) {
                throw new IllegalArgumentException("maxDatagramSize must be 1.." + MAX_DATAGRAM + ": " + n);
            }
            maxDatagramSize = n;
            return this;
        }

        /** Datagrams queued for sending at most (more are dropped and reported); default 256. */
        public Builder sendQueue(int n) {
            if (n < 1 || n > 65_536) {
                throw new IllegalArgumentException("sendQueue must be 1..65536: " + n);
            }
            sendQueue = n;
            return this;
        }

        /** io_uring: buffers in the endpoint's provided ring, a power of two up to 32768; default 256. */
        public Builder receiveBuffers(int n) {
            if (n < 1 || n > 32_768 || Integer.bitCount(n) != 1) {
                throw new IllegalArgumentException("receiveBuffers must be a power of two up to 32768: " + n);
            }
            receiveBuffers = n;
            return this;
        }

        /** SO_REUSEPORT (default on): a group's loops share one port, the kernel spreads senders. */
        public Builder reusePort(boolean on) {
            reusePort = on;
            return this;
        }

        /** SO_RCVBUF and SO_SNDBUF in bytes (0: the kernel's default). */
        public Builder socketBuffers(int receive, int send) {
            socketReceiveBuffer = Math.max(0, receive);
            socketSendBuffer = Math.max(0, send);
            return this;
        }

        /** Connects the endpoint to one peer: only its datagrams arrive, and ICMP errors are reported. */
        public Builder connectTo(InetSocketAddress peer) {
            connectTo = peer;
            return this;
        }

        /**
         * UDP_SEGMENT (GSO): a datagram sent longer than {@code bytes} leaves as a train of
         * {@code bytes}-sized datagrams (the last one shorter) cut by the kernel or the NIC, one
         * send for up to 64 of them; raise {@link #maxDatagramSize} to the train's length.
         * 0 (default): off. Opening fails with setsockopt's errno where the kernel refuses.
         */
        public Builder sendSegmentSize(int bytes) {
            if (bytes < 0 || bytes > MAX_DATAGRAM) {
                throw new IllegalArgumentException("sendSegmentSize must be 0.." + MAX_DATAGRAM + ": " + bytes);
            }
            sendSegmentSize = bytes;
            return this;
        }

        /**
         * UDP_GRO: the kernel may hand over a train of datagrams from one sender as one, with
         * {@link Datagram#segmentSize} saying where to cut it; size {@link #maxDatagramSize} for
         * a whole train (up to 64 KiB) or it is reported truncated. Opening fails with
         * setsockopt's errno where the kernel refuses.
         */
        public Builder receiveGro(boolean on) {
            receiveGro = on;
            return this;
        }

        /** SO_TIMESTAMPING software receive timestamps, read per datagram with {@link Datagram#receivedAtNanos}. */
        public Builder receiveTimestamps(boolean on) {
            receiveTimestamps = on;
            return this;
        }

        /**
         * SO_TIMESTAMPING software transmit timestamps: the kernel stamps each datagram as the
         * device takes it and queues the stamp on the socket's error queue, numbered by a
         * counter that starts at 0 with the endpoint and counts every datagram sent (one per
         * send with {@link #sendSegmentSize}); the endpoint reads the queue and hands each one to
         * {@link DatagramHandler#onSendTimestamp}. Opening fails with setsockopt's errno where the
         * kernel refuses.
         */
        public Builder transmitTimestamps(boolean on) {
            transmitTimestamps = on;
            return this;
        }

        /** The options as set. */
        public DatagramOptions build() {
            return new DatagramOptions(this);
        }
    }
}
