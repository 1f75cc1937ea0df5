package dev.keel.zerocopy.tls;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of a TLS server, shared by its loops (atomic adds, no allocation): handshakes
 * completed (by protocol version, and how many resumed a session) and failures by
 * {@link TlsFailure}. Read at any time from any thread.
 */
public final class TlsStats {
    private static final int COMPLETED = 0;
    private static final int RESUMED = 1;
    private static final int TLS12 = 2;
    private static final int TLS13 = 3;
    private static final int KERNEL = 4;
    private static final int USER_SPACE = 5;
    private static final int FAILURES = 6;
    private final AtomicLongArray counts = new AtomicLongArray(FAILURES + TlsFailure.values().length);

    /** Counters at zero; a {@link TlsContext} makes its own. */
    public TlsStats() {
    }

    void completed(boolean resumed, boolean tls13) {
        counts.incrementAndGet(COMPLETED);
        if (resumed) {
            counts.incrementAndGet(RESUMED);
        }
        counts.incrementAndGet(tls13 ? TLS13 : TLS12);
    }

    /** A connection that tried kernel TLS: the kernel took it ({@code true}) or OpenSSL stayed in user space. */
    void kernelTls(boolean taken) {
        counts.incrementAndGet(taken ? KERNEL : USER_SPACE);
    }

    /**
     * Connections that tried kernel TLS after their handshake: {@code [taken by the kernel,
     * fell back to user space]}; both 0 where kernel TLS is not tried.
     */
    public long[] kernelTlsAttempts() {
        return new long[] {counts.get(KERNEL), counts.get(USER_SPACE)};
    }

    /** Counts one connection ended for {@code reason}. */
    public void failed(TlsFailure reason) {
        counts.incrementAndGet(FAILURES + reason.ordinal());
    }

    /** Handshakes completed. */
    public long handshakes() {
        return counts.get(COMPLETED);
    }

    /** Handshakes that resumed a session (ticket or session id). */
    public long resumed() {
        return counts.get(RESUMED);
    }

    /** Handshakes completed at TLS 1.2 and at TLS 1.3, in that order. */
    public long[] byVersion() {
        return new long[] {counts.get(TLS12), counts.get(TLS13)};
    }

    /** Connections ended for {@code reason}. */
    public long failures(TlsFailure reason) {
        return counts.get(FAILURES + reason.ordinal());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("handshakes=").append(handshakes()).append(" resumed=").append(resumed());
        for (TlsFailure f : TlsFailure.values()) {
            sb.append(' ').append(f.label()).append('=').append(failures(f));
        }
        return sb.toString();
    }
}
