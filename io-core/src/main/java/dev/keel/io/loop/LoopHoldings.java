package dev.keel.io.loop;

import dev.keel.io.EventLoop;

import java.util.function.Function;

/**
 * What one loop holds now, read on its thread: the figures leak accounting compares before and
 * after a test (the test support's {@code dev.keel.io.testing.ResourceSnapshot}). {@link EventLoop}
 * installs the reader when its class initialises, so the figures stay package-private there and
 * no public method of the API exposes them; this package is not exported, so outside io-core
 * only code on the class path (tests, benchmarks) reaches it.
 */
public final class LoopHoldings {
    private static volatile Function<EventLoop, Usage> reader;

    private LoopHoldings() {
    }

    /**
     * One loop's holdings.
     *
     * @param connections  connections open (closed ones the kernel still holds included)
     * @param buffersInUse pool buffers held by connections or the application (not those lent
     *                     to the kernel for receives)
     * @param bufferBytes  bytes of the pool buffers handed out (those lent to the kernel included)
     */
    public record Usage(int connections, int buffersInUse, long bufferBytes) {
    }

    /** Called once, by {@link EventLoop}'s class initialiser. */
    public static void install(Function<EventLoop, Usage> loopReader) {
        if (reader != null) {
            throw new IllegalStateException("loop holdings reader already installed");
        }
        reader = loopReader;
    }

    /** What {@code loop} holds now; on the loop's thread only (run it through {@link EventLoop#execute}). */
    public static Usage of(EventLoop loop) {
        if (!loop.inLoop()) {
            throw new IllegalStateException("loop " + loop.index() + " holdings read off its thread");
        }
        return reader.apply(loop);
    }
}
