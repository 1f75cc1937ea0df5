package dev.keel.io.loop;

import dev.keel.io.Connection;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import java.lang.foreign.MemorySegment;

/**
 * The kernel side of an {@link dev.keel.io.EventLoop}: how new connections, arriving bytes and socket
 * space are learned of, and how bytes, shutdowns and closes reach the kernel. The loop keeps
 * the connection lifecycle (table, queues, water marks, timers, handler calls) and calls these
 * hooks; a poller calls back into the loop only through its {@link PollerHost}. Every method runs on the loop thread.
 */
public abstract class Poller {
    protected final PollerHost loop;

    protected Poller(PollerHost loop) {
        this.loop = loop;
    }

    public abstract Transport transport();

    /** Buffers per pool size class: the options' counts plus any the poller lends the kernel. */
    public int[] bufferCounts(LoopOptions options) {
        return options.bufferCounts();
    }

    /**
     * Creates the kernel objects, after the loop made its table, pool and queues. The listener
     * ({@code listenFd} >= 0) is not accepted from before {@link #startAccepting}; the eventfd
     * {@code wakeFd} must wake a blocked {@link #poll}.
     */
    public abstract void setUp(int listenFd, int wakeFd);

    /**
     * Waits for readiness or completions up to {@code timeoutMillis} (0: do not block, -1: no
     * limit; the loop's sleep protocol decides whether blocking is still allowed) and
     * dispatches them. Returns how many were handled.
     */
    public abstract int poll(int timeoutMillis);

    public abstract void startAccepting();

    public abstract void stopAccepting();

    /** A connection was put in {@code slot}: start reading it. May throw SyscallException. */
    public abstract void register(int slot, Connection c);

    /**
     * Writes native {@code data} at once if the transport can: returns the bytes taken off the
     * caller's hands — written to the socket, or queued without a copy by the poller — (0 when
     * the rest must be copied into the queue) or -1 when the connection died doing so.
     */
    public abstract long writeNow(int slot, Connection c, MemorySegment data, long length);

    /**
     * Native {@code data} is to go behind bytes already queued: queues it without a copy if the
     * transport can (io_uring: a whole receive buffer being delivered, after a full tail) and
     * returns {@code length}; 0 when it must be copied into the queue.
     */
    public long queueWithoutCopy(int slot, MemorySegment data, long length) {
        return 0;
    }

    /**
     * A file region was queued for {@code slot} ({@link OutboundQueue#files()}) behind its
     * queued bytes: move what can be moved now or at the end of the pass, and from then on carry
     * the region as the socket takes it — the bytes before it first (with MSG_MORE, so the last
     * of them share a segment with the file's first), then the region in chunks, reporting each
     * chunk with {@link PollerHost#sentFile} and the end with {@link PollerHost#fileSent}, then the
     * bytes behind it. The caller's file descriptor must not be read after that report nor after
     * the slot is released.
     */
    public abstract void fileQueued(int slot, Connection c);

    /** Heap bytes were queued into an empty queue: write some now if the transport can; -1: died. */
    public abstract long flushNow(int slot, Connection c);

    /**
     * The slot's flags or queue changed (reading paused or resumed, input closed, closing,
     * output queued, writability wanted): bring the kernel side in line.
     */
    public abstract void update(int slot);

    /** Sends FIN on the connection; its queue is empty. */
    public abstract void shutdownOutput(int slot, Connection c);

    /**
     * The loop retired {@code slot}: stop every kernel operation on it and close its socket.
     * True when the kernel holds nothing of it now; otherwise the poller calls the loop's
     * {@code released} once the last completion came back.
     */
    public abstract boolean close(int slot, Connection c);

    /**
     * A socket the loop made to connect out: returns the descriptor the transport knows it by
     * from now on (io_uring with direct descriptors moves it into the ring's fixed file table
     * and closes {@code fd}; otherwise {@code fd} itself). May throw SyscallException, having
     * closed {@code fd}.
     */
    public int adoptSocket(int fd) {
        return fd;
    }

    /**
     * Connects outbound {@code slot}'s socket to the {@code length}-byte sockaddr in
     * {@code sockaddr} (scratch memory: valid during this call only). The outcome reaches the
     * loop as {@link PollerHost#connected} (the socket set up for reading) or
     * {@link PollerHost#connectFailed}, possibly before this returns.
     */
    public abstract void connect(int slot, Connection c, MemorySegment sockaddr, int length);

    /** An accepted socket the loop will not serve (its table is full). */
    public abstract void discardAccepted(int fd);

    /**
     * After shutdown closed every connection: waits (until {@code deadlineNanos} at most) for the
     * kernel to give back what it still holds, so that the memory can be freed.
     */
    public void drain(long deadlineNanos) {
    }

    /**
     * Whether the kernel may still use loop memory after {@link #drain} gave up: the loop then
     * leaves its arena open (a leak, logged) rather than let the kernel write into freed memory.
     */
    public boolean holdsMemory() {
        return false;
    }

    /** Closes the kernel objects of {@link #setUp}; the loop closes the listener and eventfd. */
    public abstract void tearDown();

    /** Pool buffers lent to the kernel now (provided for receives), not held by any connection. */
    public int buffersLentToKernel() {
        return 0;
    }

    /** Pipes held open for file regions (idle or lent); none by default. */
    public int filePipes() {
        return 0;
    }

    /** The descriptor a connection keeps for kernel-side descriptor {@code fd} (-1: none, a fixed file only). */
    public int publicFd(int fd) {
        return fd;
    }

    /**
     * The transport's datagram side, made on first call with {@code sink} (later calls return
     * the same); the poller flushes it at the start of each poll and closes it in tearDown.
     */
    public DatagramDriver datagrams(DatagramSink sink) {
        throw new UnsupportedOperationException(transport() + " has no datagram endpoints");
    }
}
