package dev.keel.io;

/**
 * Counters of one loop. Written only by the loop thread; other threads read them without
 * synchronisation, so a reading may lag the loop by a pass (fine for metrics).
 */
public final class LoopStats {
    long passes;
    long accepted;
    long closed;
    long rejected;
    long acceptFailures;
    long bytesIn;
    long bytesOut;
    long idleTimeouts;
    long handlerFailures;
    long taskFailures;
    long loopFailures;
    long receiveStarvations;
    long completionOverflows;

    LoopStats() {
    }

    /** Loop passes (duty cycles) run. */
    public long passes() {
        return passes;
    }

    /** Connections accepted. */
    public long accepted() {
        return accepted;
    }

    /** Connections closed, for any reason. */
    public long closed() {
        return closed;
    }

    /**
     * Accepted sockets closed unserved: the connection table was full, or (io_uring) an accept
     * completed after accepting had stopped.
     */
    public long rejected() {
        return rejected;
    }

    /** accept4 failures (EMFILE, ENFILE, ...) that paused accepting. */
    public long acceptFailures() {
        return acceptFailures;
    }

    public long bytesIn() {
        return bytesIn;
    }

    public long bytesOut() {
        return bytesOut;
    }

    public long idleTimeouts() {
        return idleTimeouts;
    }

    /** Handler callbacks that threw (each closed its connection). */
    public long handlerFailures() {
        return handlerFailures;
    }

    /** Unexpected failures inside a loop pass, logged and survived. */
    public long loopFailures() {
        return loopFailures;
    }

    /**
     * io_uring: multishot receives that stopped because the provided buffer ring was empty
     * (ENOBUFS) and were armed again once buffers came back. Many mean too few provided buffers.
     */
    public long receiveStarvations() {
        return receiveStarvations;
    }

    /**
     * io_uring: times the completion queue was found overflowed; the kernel kept the extra
     * completions (IORING_FEAT_NODROP) and the loop brought them in. Many mean too small a ring.
     */
    public long completionOverflows() {
        return completionOverflows;
    }

    /** Tasks and timers that threw. */
    public long taskFailures() {
        return taskFailures;
    }
}
