package dev.keel.zerocopy.proxy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The proxy's counters of one loop. As io-core's {@code LoopStats}: only the loop thread writes,
 * with plain increments (no fence, no allocation); any thread reads, each field opaquely, so a
 * value is never torn but may lag the loop by a pass.
 */
final class ProxyCounters {
    private static final VarHandle OPENED = field("opened");
    private static final VarHandle CLOSED = field("closed");
    private static final VarHandle REFUSED = field("refused");
    private static final VarHandle TIMED_OUT = field("timedOut");
    private static final VarHandle FAILED = field("failed");
    private static final VarHandle RESETS = field("resets");

    private final int loop;
    long opened;
    long closed;
    long refused;
    long timedOut;
    long failed;
    long resets;

    ProxyCounters(int loop) {
        this.loop = loop;
    }

    private static VarHandle field(String name) {
        try {
            return MethodHandles.lookup().findVarHandle(ProxyCounters.class, name, long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The values now, each read opaquely; any thread. */
    ProxyStats snapshot() {
        return new ProxyStats(loop, (long) OPENED.getOpaque(this), (long) CLOSED.getOpaque(this),
                (long) REFUSED.getOpaque(this), (long) TIMED_OUT.getOpaque(this), (long) FAILED.getOpaque(this),
                (long) RESETS.getOpaque(this));
    }
}
