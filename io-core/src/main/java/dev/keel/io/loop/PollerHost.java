package dev.keel.io.loop;

import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.LoopOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What a transport ({@link Poller}) sees of its loop, and all it may call: the loop's shared
 * off-heap state, the sleep protocol, the accept and connection lifecycle hooks, and counting.
 * The one narrow interface between a transport and the loop, so that a transport can be read,
 * tested and added without knowing the loop's inside. Every method runs on the loop thread.
 */
public interface PollerHost {
    // ---------------------------------------------------------------- the loop's state

    LoopOptions options();

    ConnectionTable table();

    BufferPool pool();

    OutboundQueue outbound();

    /** The loop's arena: memory freed when the loop has stopped and the kernel holds none of it. */
    Arena arena();

    /** The loop's read buffer (epoll reads into it; io_uring copies a buffer it cannot lend). */
    MemorySegment readBuffer();

    /** A view of the first {@code n} bytes of the read buffer, made once per length and reused. */
    MemorySegment readSlice(int n);

    /** The clock of this pass (System.nanoTime), read once per pass. */
    long now();

    /** The connection in {@code slot} (open, or retired and not yet released), or null. */
    Connection connection(int slot);

    /** The kernel-side descriptor of {@code c} (a fixed file index with direct descriptors), whatever its state. */
    int descriptor(Connection c);

    /** The loop thread's name, for log lines. */
    String name();

    /** The CPU the loop thread runs on, or -1 when unpinned. */
    int cpu();

    // ---------------------------------------------------------------- counting

    /** The loop thread made {@code n} system calls. */
    void countSyscalls(long n);

    /** One system call received {@code n} datagrams, n at least 1 (see {@link dev.keel.io.DatagramStats}). */
    void countReceiveBatch(int n);

    /** One system call sent {@code n} datagrams, n at least 1 (see {@link dev.keel.io.DatagramStats}). */
    void countSendBatch(int n);

    /** The kernel had no provided buffer for a receive (io_uring). */
    void receiveStarved();

    /** Completions overflowed the completion queue and were kept by the kernel (io_uring). */
    void completionsOverflowed();

    // ---------------------------------------------------------------- sleep protocol

    /**
     * Called before blocking: tells producers to write the eventfd from now on. False when a
     * task or a shutdown arrived meanwhile, so the transport must not block; either way it calls
     * {@link #awake} after its wait.
     */
    boolean prepareToBlock();

    /** Called after a wait announced with {@link #prepareToBlock}. */
    void awake();

    /** Whether tasks wait; lets a spinning transport stop spinning. */
    boolean hasTasks();

    // ---------------------------------------------------------------- accept

    /** Whether the loop wants new connections now. */
    boolean accepting();

    /**
     * An accept failed with {@code errno}: the loop's one accept-error policy decides what
     * follows. True when accepting goes on now (the error was the one connection's); false when
     * accepting was paused for a retry on a timer.
     */
    boolean acceptFailed(int errno);

    /** The transport accepted socket {@code fd} (a fixed file index with direct descriptors) while accepting. */
    void accepted(int fd);

    /** An accepted socket the loop did not serve (accepted while accepting stopped). */
    void acceptedUnserved();

    /** Applies the loop's socket options to {@code fd} (or to a listener, whose children inherit them). */
    void configure(int fd);

    // ---------------------------------------------------------------- connections

    /** The connect of outbound {@code slot} completed; the poller has set it up for reading already. */
    void connected(int slot);

    /** The connect of outbound {@code slot} failed: {@code call} with {@code errno}. */
    void connectFailed(int slot, String call, int errno);

    /** Bytes arrived for {@code c}; false when the connection is closed after the handler's call. */
    boolean received(int slot, Connection c, MemorySegment data);

    /** The peer shut down its sending side. */
    void inputClosed(int slot, Connection c);

    /** The socket took {@code n} bytes of the connection's output. */
    void sent(int slot, long n);

    /** The socket took {@code n} bytes of the connection's file region ({@link FileRegions}). */
    void sentFile(int slot, long n);

    /**
     * The connection's file region is over: sent to its last byte ({@code error} 0), or failed
     * with the file's errno ({@link FileRegions#TRUNCATED} when the file ended early). The loop
     * clears the region, tells the handler, and closes the connection after a failure. A region
     * cut short by the connection's close is not reported here.
     */
    void fileSent(int slot, Connection c, int error);

    /** Output moved (bytes taken, or the socket writable): finish closes, resume reading, call onWritable. */
    void outputProgress(int slot, Connection c);

    /** Closes the connection now with {@code reason} (its handle goes stale at once). */
    void closeNow(int slot, CloseReason reason);

    /** The kernel holds nothing of retired {@code slot} any more: free it and tell the handler. */
    void released(int slot);

    /** A failure the loop survives: logged (or given to the default uncaught-exception handler) and counted. */
    void reportUnexpected(Throwable t);
}
