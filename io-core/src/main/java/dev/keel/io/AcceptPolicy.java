package dev.keel.io;

import dev.keel.ffm.gen.Errno;

/**
 * The loop's accept switch — whether its transport is accepting now, paused, or stopped for
 * shutdown — and what a loop does when accepting fails, the same on every transport:
 * <ul>
 * <li>the connection itself went wrong before it was taken (ECONNABORTED, EPERM from a
 *     firewall, and the network errors accept(2) passes on from the new socket: ENETDOWN,
 *     EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH): counted
 *     ({@link LoopStats#acceptAborted}), and accepting goes on;</li>
 * <li>the process or the system is out of something (EMFILE, ENFILE, ENOBUFS, ENOMEM):
 *     accepting pauses and is retried on a timer ({@link LoopOptions.Builder#acceptRetry}),
 *     counted ({@link LoopStats#acceptFailures}); retrying at once would spin;</li>
 * <li>anything else (EINVAL from a listener shut down, EBADF, ...): counted the same way,
 *     logged — once per run of the same errno — and paused.</li>
 * </ul>
 * One per loop; loop thread only.
 */
final class AcceptPolicy {
    private final LoopCore loop;
    private final LoopStats stats;
    /** The errno last logged, so that a listener failing on every retry is logged once; 0 after a success. */
    private int logged;
    private boolean accepting;
    /** The pending retry of a paused accept, or -1. */
    private int resumeTimer = -1;

    AcceptPolicy(LoopCore loop) {
        this.loop = loop;
        this.stats = loop.stats;
    }

    /** Whether {@code errno} is the one connection's problem, not the listener's. */
    static boolean isPerConnection(int errno) {
        return errno == Errno.ECONNABORTED || errno == Errno.EPERM || errno == Errno.ENETDOWN
                || errno == Errno.EPROTO || errno == Errno.ENOPROTOOPT || errno == Errno.EHOSTDOWN
                || errno == Errno.ENONET || errno == Errno.EHOSTUNREACH || errno == Errno.EOPNOTSUPP
                || errno == Errno.ENETUNREACH;
    }

    /** Whether {@code errno} says the process or system ran out of descriptors or memory. */
    static boolean isExhaustion(int errno) {
        return errno == Errno.EMFILE || errno == Errno.ENFILE || errno == Errno.ENOBUFS || errno == Errno.ENOMEM;
    }

    /** Whether the transport is accepting now. */
    boolean accepting() {
        return accepting;
    }

    /** Starts accepting (at set-up, and when a pause's retry is due), unless the loop has no listener or stops. */
    void resume() {
        resumeTimer = -1;
        if (!accepting && !loop.shuttingDown() && loop.listenFd() >= 0) {
            accepting = true;
            loop.poller.startAccepting();
        }
    }

    /** Stops accepting for good (shutdown) or until {@link #resume}. */
    void stop() {
        if (accepting) {
            accepting = false;
            loop.poller.stopAccepting();
        }
    }

    /** Stops accepting and schedules a retry after {@link LoopOptions.Builder#acceptRetry} (at most one pending). */
    void pause() {
        stop();
        if (resumeTimer < 0) {
            resumeTimer = loop.timers.scheduleInternal(loop.now, loop.options.acceptRetryNanos,
                    LoopTimers.KIND_ACCEPT_RESUME, 0, 0);
        }
    }

    /** An accept succeeded. */
    void accepted() {
        logged = 0;
    }

    /**
     * An accept failed with {@code errno}; returns whether to go on accepting now (true), or
     * accepting was paused (false).
     */
    boolean failed(int errno) {
        if (isPerConnection(errno)) {
            stats.acceptAborted++;
            return true;
        }
        stats.acceptFailures++;
        if (!isExhaustion(errno) && errno != logged) {
            logged = errno;
            EventLoop.LOG.log(System.Logger.Level.WARNING, loop.name() + ": accept failed with "
                    + Errno.name(errno) + " (" + Errno.message(errno) + "), which no connection explains;"
                    + " accepting pauses and is retried");
        }
        if (accepting) {
            pause();
        }
        return false;
    }
}
