package dev.keel.io.testing;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Rule 4's measurement, shared by every zero-allocation test: the bytes a loop thread allocates
 * while a client drives a batch of requests through it, read from the thread's allocated-bytes
 * counter.
 *
 * <p>Steady state is what the rule is about. Interpreted and C1 code allocate what C2 keeps in
 * registers, and on a busy machine C2 comes late, so the batch first runs in tenths until three
 * tenths in a row allocate nothing (at most a minute). Then the whole batch is measured; a
 * one-off event — a late compilation, the deoptimisation when a branch is first taken under
 * load (a socket buffer full for the first time) — can still allocate a few hundred bytes once,
 * so the whole batch gets up to three tries and one clean run passes. A path that allocates per
 * request, or even once per thousand requests, allocates in every try and fails, and the
 * message names every try's figure.
 */
public final class LoopAllocations {
    private static final int TRIES = 3;
    private static final long WARM_UP_NANOS = 60_000_000_000L;

    /** One request (or round trip) through the loop, checked by the caller. */
    @FunctionalInterface
    public interface Request {
        void run(int i) throws Exception;
    }

    private LoopAllocations() {
    }

    /** Fails unless {@code requests} runs of {@code request} allocate nothing on {@code loopThread}. */
    public static void assertNoneAllocated(Thread loopThread, int requests, String what, Request request)
            throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = loopThread.threadId();
        int quiet = 0;
        long warmUntil = System.nanoTime() + WARM_UP_NANOS;
        while (quiet < 3 && System.nanoTime() - warmUntil < 0) {
            long b0 = threads.getThreadAllocatedBytes(id);
            repeat(request, requests / 10);
            quiet = threads.getThreadAllocatedBytes(id) == b0 ? quiet + 1 : 0;
        }
        long[] tries = new long[TRIES];
        for (int t = 0; t < TRIES; t++) {
            long before = threads.getThreadAllocatedBytes(id);
            repeat(request, requests);
            tries[t] = threads.getThreadAllocatedBytes(id) - before;
            if (tries[t] == 0) {
                return;
            }
        }
        fail("bytes allocated on the loop thread over " + requests + " " + what + ", in each of " + TRIES
                + " tries: " + Arrays.toString(tries));
    }

    private static void repeat(Request request, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            request.run(i);
        }
    }
}
