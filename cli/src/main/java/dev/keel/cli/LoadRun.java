package dev.keel.cli;

import dev.keel.io.ConnectOptions;
import dev.keel.io.EventLoop;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;

import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One run of {@code keel load}: a group of client loops (no listener; pinned by the core plan
 * like the servers, or on the CPUs given), the connections spread over them, every connection
 * opened before the clock starts, then {@code duration} of load, then each connection closing
 * once its last answers are in. Results are read after the loops stopped.
 */
final class LoadRun {
    /** What to run. {@code rate} is requests per second over all connections; 0 for a closed loop. */
    record Settings(InetSocketAddress remote, int connections, int depth, int size, Duration duration, long rate,
                    int loops, int[] cpus, Transport transport, boolean udp) {
    }

    /**
     * What a run measured; latencies in nanoseconds. UDP only: datagrams {@code lost} (no echo
     * within the loss timeout), echoes that came {@code late}, and sends {@code dropped} (the
     * endpoint's queue full or the kernel refused); 0 over TCP.
     */
    record Result(Settings settings, Transport transport, int[] cpus, long elapsedNanos, long requests,
                  long bytesChecked, long errors, String firstError, LatencyHistogram latency, long lost, long late,
                  long dropped) {
        double requestsPerSecond() {
            return elapsedNanos == 0 ? 0 : requests * 1e9 / elapsedNanos;
        }
    }

    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);
    static final Duration PACER_PERIOD = Duration.ofMillis(1);

    private LoadRun() {
    }

    static Result run(Settings s) throws InterruptedException {
        if (s.udp()) {
            return UdpLoadRun.run(s);
        }
        LoopOptions.Builder options = LoopOptions.builder()
                .maxConnections(Math.max(64, (s.connections() + s.loops() - 1) / s.loops() + 8));
        if (s.rate() > 0) {
            options.tick(PACER_PERIOD); // the pacer fires every tick: requests leave within a millisecond of due
        }
        LoadLoop.Shared shared = new LoadLoop.Shared();
        try (Arena arena = Arena.ofShared(); EventLoopGroup group = clientGroup(s, options.build())) {
            LoadPattern pattern = new LoadPattern(arena, s.size(), 42);
            int n = group.loops().size();
            LoadLoop[] loops = new LoadLoop[n];
            for (int i = 0; i < n; i++) {
                loops[i] = new LoadLoop(shared);
            }
            long interval = s.rate() > 0 ? Math.max(1, (long) (s.connections() * 1e9 / s.rate())) : 0;
            ConnectOptions connect = ConnectOptions.builder().timeout(Duration.ofSeconds(10)).build();
            for (int i = 0; i < s.connections(); i++) {
                long offset = interval * i / s.connections();
                // connect(key) puts connection i on loop i mod n: the loop whose counters it gets.
                group.connect(i, s.remote(), new LoadConnection(pattern, loops[i % n], i, s.size(), s.depth(),
                        interval, offset), connect);
            }
            long nanos = measure(group, loops, s, shared, "connections", i -> { });
            await(() -> shared.finished() >= s.connections(), Duration.ofSeconds(20));
            group.close();
            return result(s, group, loops, nanos, shared, 0, 0, 0);
        }
    }

    /** A client group of the settings' loops, transport and CPUs, with {@code options}, started. */
    static EventLoopGroup clientGroup(Settings s, LoopOptions options) {
        EventLoopGroup.Builder builder = EventLoopGroup.builder().withoutListener().loops(s.loops())
                .transport(s.transport()).options(options);
        if (s.cpus().length != 0) {
            builder.cpus(s.cpus());
        }
        return builder.start();
    }

    /**
     * The timed part of a run, TCP or UDP, once every flow was asked to open: waits until all
     * opened or failed, then runs {@code onOpen(i)} on each loop i (whatever came of it); when
     * all opened and nothing failed, starts each loop's flows, paces them
     * when the settings give a rate, sleeps for the duration (waking early on a failure) and
     * stops them; otherwise stops them at once, counting flows not open in time as an error
     * (they are {@code what}). Returns the nanoseconds measured, 0 when nothing ran.
     */
    static long measure(EventLoopGroup group, LoadLoop[] loops, Settings s, LoadLoop.Shared shared, String what,
                        java.util.function.IntConsumer onOpen) throws InterruptedException {
        boolean allOpen = await(() -> shared.opened.get() + shared.connectFailed.get() >= s.connections(),
                OPEN_TIMEOUT);
        onEachLoop(group, onOpen);
        long start = System.nanoTime();
        long end = start;
        if (allOpen && shared.errors.get() == 0) {
            long[] pacers = new long[loops.length];
            onEachLoop(group, i -> {
                loops[i].start(start);
                if (s.rate() > 0) {
                    LoadLoop l = loops[i];
                    pacers[i] = group.loops().get(i).scheduleAtFixedRate(Duration.ZERO, PACER_PERIOD, l::pace);
                }
            });
            sleepUntil(start + s.duration().toNanos(), shared);
            end = System.nanoTime();
            onEachLoop(group, i -> {
                if (s.rate() > 0) {
                    group.loops().get(i).cancelTimer(pacers[i]);
                }
                loops[i].stop();
            });
        } else {
            onEachLoop(group, i -> loops[i].stop());
            if (!allOpen) {
                shared.errors.incrementAndGet();
                shared.firstError.compareAndSet(null, what + " not open after " + OPEN_TIMEOUT + ": "
                        + shared.opened.get() + " of " + s.connections());
            }
        }
        return end - start;
    }

    /** The run's result: every loop's latencies and checked bytes added up, with the shared counters. */
    static Result result(Settings s, EventLoopGroup group, LoadLoop[] loops, long nanos, LoadLoop.Shared shared,
                         long lost, long late, long dropped) {
        LatencyHistogram total = new LatencyHistogram();
        long bytes = 0;
        for (LoadLoop l : loops) {
            total.add(l.histogram());
            bytes += l.bytesChecked();
        }
        return new Result(s, group.transport(), group.cpus(), nanos, total.count(), bytes, shared.errors.get(),
                shared.firstError.get(), total, lost, late, dropped);
    }

    /** Runs {@code action(i)} on loop i of the group, for every loop, and waits for all. */
    static void onEachLoop(EventLoopGroup group, java.util.function.IntConsumer action)
            throws InterruptedException {
        CountDownLatch done = new CountDownLatch(group.loops().size());
        for (EventLoop loop : group.loops()) {
            int i = loop.index();
            loop.execute(() -> {
                try {
                    action.accept(i);
                } finally {
                    done.countDown();
                }
            });
        }
        if (!done.await(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("a client loop did not answer within 20 s");
        }
    }

    /** Sleeps until {@code deadline}, waking early when a connection failed (the run is void then). */
    static void sleepUntil(long deadline, LoadLoop.Shared shared) throws InterruptedException {
        long left;
        while ((left = deadline - System.nanoTime()) > 0 && shared.errors.get() == 0) {
            Thread.sleep(Math.min(100, Math.max(1, left / 1_000_000)));
        }
    }

    static boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }
}
