package dev.keel.io;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * What a process holds at one moment, for leak accounting: its descriptors, its threads, its
 * resident memory, the native memory the JVM counts as direct, and per event loop the
 * connections open, the pool buffers held and the off-heap bytes of pool and table. Taken
 * before and after a stress phase; {@link #growthSince} names whatever did not come back.
 *
 * <p>Threads are counted from /proc without the JVM's own compiler and GC workers, which the
 * JVM starts and stops by itself as load comes and goes.
 *
 * @param pid         the process
 * @param fds         entries of /proc/PID/fd
 * @param threads     tasks of /proc/PID/task, JIT and GC workers left out
 * @param rssBytes    VmRSS of /proc/PID/status
 * @param directBytes native memory the JVM counts as direct (includes FFM arenas); -1 for another process
 * @param loops       one entry per loop of the groups given; empty for another process
 */
public record ResourceSnapshot(long pid, int fds, int threads, long rssBytes, long directBytes,
                               List<LoopUsage> loops) {

    /**
     * One loop's holdings.
     *
     * @param connections  connections open (closed ones the kernel still holds included)
     * @param buffersInUse pool buffers held by connections (not those lent to the kernel for receives)
     * @param bufferBytes  bytes of the pool buffers handed out (those lent to the kernel included)
     * @param offHeapBytes bytes of the loop's buffer pool region and connection table
     */
    public record LoopUsage(int connections, int buffersInUse, long bufferBytes, long offHeapBytes) {
    }

    /** This process, with the loops of {@code groups} (each read on its own thread). */
    public static ResourceSnapshot ofSelf(EventLoopGroup... groups) {
        List<LoopUsage> loops = new ArrayList<>();
        for (EventLoopGroup g : groups) {
            for (EventLoop loop : g.loops()) {
                loops.add(usage(loop));
            }
        }
        long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        long pid = ProcessHandle.current().pid();
        return new ResourceSnapshot(pid, count(pid, "fd"), threads(pid), rss(pid), direct, List.copyOf(loops));
    }

    /** Another process, from /proc only. */
    public static ResourceSnapshot ofProcess(long pid) {
        return new ResourceSnapshot(pid, count(pid, "fd"), threads(pid), rss(pid), -1, List.of());
    }

    /**
     * What grew since {@code baseline}, one line each; empty when descriptors, threads, open
     * connections and held buffers are back. Resident memory is not compared (the heap and the
     * JIT grow it legitimately); direct memory is, past {@code directSlackBytes}.
     */
    public List<String> growthSince(ResourceSnapshot baseline, long directSlackBytes) {
        List<String> grown = new ArrayList<>();
        if (fds > baseline.fds) {
            grown.add("descriptors " + baseline.fds + " -> " + fds);
        }
        if (threads > baseline.threads) {
            grown.add("threads " + baseline.threads + " -> " + threads);
        }
        if (directBytes >= 0 && baseline.directBytes >= 0 && directBytes > baseline.directBytes + directSlackBytes) {
            grown.add("direct bytes " + baseline.directBytes + " -> " + directBytes);
        }
        for (int i = 0; i < loops.size() && i < baseline.loops.size(); i++) {
            LoopUsage before = baseline.loops.get(i);
            LoopUsage now = loops.get(i);
            if (now.connections > before.connections) {
                grown.add("loop " + i + " connections " + before.connections + " -> " + now.connections);
            }
            if (now.buffersInUse > before.buffersInUse) {
                grown.add("loop " + i + " buffers in use " + before.buffersInUse + " -> " + now.buffersInUse);
            }
            if (now.offHeapBytes != before.offHeapBytes) {
                grown.add("loop " + i + " off-heap bytes " + before.offHeapBytes + " -> " + now.offHeapBytes);
            }
        }
        return grown;
    }

    private static LoopUsage usage(EventLoop loop) {
        CompletableFuture<LoopUsage> f = new CompletableFuture<>();
        try {
            loop.execute(() -> f.complete(new LoopUsage(loop.openConnections(), loop.buffersInUse(),
                    loop.pool.bytesInUse(), loop.pool.offHeapBytes() + loop.table.offHeapBytes())));
            return f.get(10, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            return new LoopUsage(0, 0, 0, 0); // a stopped loop holds nothing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading loop " + loop.index(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("loop " + loop.index() + " did not answer", e);
        }
    }

    private static int count(long pid, String dir) {
        try (Stream<Path> entries = Files.list(Path.of("/proc", Long.toString(pid), dir))) {
            return (int) entries.count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static int threads(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return (int) tasks.filter(t -> !jvmWorker(t)).count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** JIT compiler and GC threads come and go with load, by the JVM's choice. */
    private static boolean jvmWorker(Path task) {
        try {
            String name = Files.readString(task.resolve("comm")).strip();
            return name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler") || name.startsWith("GC Thread")
                    || name.startsWith("G1 ") || name.startsWith("GC ");
        } catch (IOException e) {
            return true; // the thread ended while we looked
        }
    }

    private static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).strip().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
