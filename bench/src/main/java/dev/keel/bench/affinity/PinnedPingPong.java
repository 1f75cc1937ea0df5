package dev.keel.bench.affinity;

import dev.keel.affinity.Affinity;
import dev.keel.affinity.CorePlan;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.PinnedThreadFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;

/**
 * Echo ping-pong over TCP on 127.0.0.1 with blocking sockets, the client and the echo server
 * each on its own thread: unpinned, pinned to two CPUs of a {@link CorePlan}, and both pinned
 * to one CPU; prints round-trip percentiles of each run. Pinning keeps a thread's caches and
 * stops migrations, but it also stops the scheduler from moving the thread off a CPU that
 * something else is using and, with blocking reads, turns every wake-up into a cross-CPU
 * one: the numbers say which wins on the machine at hand (dedicated, isolated CPUs are where
 * pinning pays; a small, shared VM is where it can cost).
 *
 * <p>Run: {@code java -cp ... dev.keel.bench.affinity.PinnedPingPong [ROUNDS] [MESSAGE_BYTES]}.
 * A measurement, not a test: nothing is asserted.
 */
public final class PinnedPingPong {
    private PinnedPingPong() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int usable = CpuTopology.system().usable().size();
        CorePlan plan = CorePlan.forLoops(Math.min(2, usable));
        System.out.println("ping-pong of " + size + "-byte messages, " + rounds + " rounds after "
                + rounds / 10 + " warm-up rounds; plan:");
        System.out.print(plan.toString().indent(2));
        for (int pass = 0; pass < 2; pass++) {
            report("unpinned           ", run(Thread.ofPlatform().factory(), rounds, size));
            if (plan.size() == 2) {
                report("pinned, two CPUs   ", run(new PinnedThreadFactory("pingpong", plan), rounds, size));
            }
            int one = plan.cpu(0);
            // Both threads on one CPU on purpose, which PinnedThreadFactory refuses to do.
            ThreadFactory shared = task -> Thread.ofPlatform().unstarted(() -> {
                Affinity.pinCurrentThread(one);
                task.run();
            });
            report("pinned, one CPU    ", run(shared, rounds, size));
        }
    }

    /** Round-trip times in nanoseconds, server and client threads made by {@code threads}. */
    private static long[] run(ThreadFactory threads, int rounds, int size) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            CompletableFuture<Void> served = new CompletableFuture<>();
            threads.newThread(() -> echo(server, size, served)).start();
            CompletableFuture<long[]> times = new CompletableFuture<>();
            Thread client = threads.newThread(() -> {
                try {
                    times.complete(ping(server.getLocalAddress(), rounds, size));
                } catch (Throwable t) {
                    times.completeExceptionally(t);
                }
            });
            client.start();
            long[] result = times.get();
            served.get();
            return result;
        }
    }

    private static void echo(ServerSocketChannel server, int size, CompletableFuture<Void> done) {
        try (SocketChannel ch = server.accept()) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer buf = ByteBuffer.allocateDirect(size);
            while (true) {
                buf.clear();
                while (buf.hasRemaining()) {
                    if (ch.read(buf) < 0) {
                        done.complete(null);
                        return;
                    }
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        } catch (IOException e) {
            done.completeExceptionally(e);
        }
    }

    private static long[] ping(java.net.SocketAddress to, int rounds, int size) {
        try (SocketChannel ch = SocketChannel.open(to)) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer buf = ByteBuffer.allocateDirect(size);
            long[] times = new long[rounds];
            int warmUp = rounds / 10;
            for (int i = -warmUp; i < rounds; i++) {
                long start = System.nanoTime();
                buf.clear();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                buf.clear();
                while (buf.hasRemaining()) {
                    if (ch.read(buf) < 0) {
                        throw new IOException("echo server closed early");
                    }
                }
                if (i >= 0) {
                    times[i] = System.nanoTime() - start;
                }
            }
            return times;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void report(String name, long[] times) {
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        System.out.printf("%s  p50 %6.1f us  p99 %6.1f us  p99.9 %7.1f us  max %8.1f us%n", name,
                at(sorted, 0.50), at(sorted, 0.99), at(sorted, 0.999), sorted[sorted.length - 1] / 1000.0);
    }

    private static double at(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] / 1000.0;
    }
}
