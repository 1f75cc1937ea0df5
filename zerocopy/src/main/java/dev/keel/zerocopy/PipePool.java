package dev.keel.zerocopy;

import java.util.ArrayDeque;

/**
 * Empty pipes kept for reuse by one thread (a loop), so that a splice transfer or a proxied
 * connection does not pay pipe2(2) and F_SETPIPE_SZ each time. Only empty pipes come back to
 * the pool; one returned with bytes still inside is closed instead, since its bytes belong to
 * a transfer that is gone. At most {@code maxIdle} pipes wait in the pool.
 * Not thread-safe: one pool per loop.
 */
public final class PipePool implements AutoCloseable {
    private final ArrayDeque<Pipe> idle = new ArrayDeque<>();
    private final int pipeSize;
    private final int maxIdle;
    private int open;
    private boolean closed;

    /**
     * An empty pool: pipes are made on first demand ({@code pipe2}), not here.
     *
     * @param pipeSize capacity asked for each pipe (0: the kernel's default, 64 KiB)
     * @param maxIdle  pipes kept for reuse at most
     */
    public PipePool(int pipeSize, int maxIdle) {
        if (pipeSize < 0 || maxIdle < 0) {
            throw new IllegalArgumentException("pipe size and pool bound must be >= 0");
        }
        this.pipeSize = pipeSize;
        this.maxIdle = maxIdle;
    }

    /** An empty pipe, from the pool or new. */
    public Pipe acquire() {
        if (closed) {
            throw new IllegalStateException("pipe pool is closed");
        }
        Pipe p = idle.pollFirst();
        if (p == null) {
            p = Pipe.open(pipeSize);
            open++;
        }
        return p;
    }

    /** Gives {@code pipe} back: kept when empty and there is room, closed otherwise. */
    public void release(Pipe pipe) {
        if (!closed && pipe.isEmpty() && idle.size() < maxIdle) {
            idle.addFirst(pipe);
        } else {
            pipe.close();
            open--;
        }
    }

    /** Pipes waiting in the pool. */
    public int idle() {
        return idle.size();
    }

    /** Pipes this pool opened and has not closed (idle or lent out). */
    public int open() {
        return open;
    }

    /** Closes the idle pipes; pipes lent out are closed when released. */
    @Override
    public void close() {
        closed = true;
        Pipe p;
        while ((p = idle.pollFirst()) != null) {
            p.close();
            open--;
        }
    }
}
