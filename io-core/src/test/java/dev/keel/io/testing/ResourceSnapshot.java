package dev.keel.io.testing;

import dev.keel.io.EventLoop;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.loop.LoopHoldings;
import dev.keel.io.loop.LoopMemory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What a process holds at one moment, for leak accounting: its descriptors (and the file each
 * one names), its threads, its resident memory, the native memory the JVM counts as direct,
 * the mapped memory of event loops' tables and buffer pools, and per event loop the
 * connections open and the pool buffers held; and the bytes malloc has handed out, where FFM
 * arenas live. Taken before and after a stress phase;
 * {@link #growthSince} names whatever did not come back, and every figure it compares can
 * fail: a /proc file that cannot be read is {@link #UNREADABLE} and fails the comparison
 * rather than passing it.
 *
 * <p>Threads are counted from /proc without the JVM's own compiler and GC workers, which the
 * JVM starts and stops by itself as load comes and goes.
 *
 * <p>Test support (io-core's test-jar, not the API): a loop's holdings come from
 * {@link LoopHoldings}, mapped memory from {@link LoopMemory}'s counter, and malloc's figure
 * from a downcall of its own, so a test JVM on the class path grants native access to
 * ALL-UNNAMED.
 *
 * @param pid         the process
 * @param fds         entries of /proc/PID/fd, or {@link #UNREADABLE}
 * @param files       what each descriptor names (readlink of /proc/PID/fd/N: a path, or
 *                    {@code socket:[...]}, {@code pipe:[...]}, ...) with how many name it; null
 *                    when unreadable
 * @param threads     tasks of /proc/PID/task, JIT and GC workers left out; or {@link #UNREADABLE}
 * @param rssBytes    VmRSS of /proc/PID/status (not compared), or {@link #UNREADABLE}
 * @param directBytes native memory the JVM counts as direct (direct ByteBuffers; not FFM
 *                    arenas, which it does not count); {@link #NOT_MEASURED} for another process
 * @param nativeHeapBytes bytes malloc(3) has handed out and not had back (glibc's mallinfo2:
 *                    in use in the main arena plus malloc's own mappings; mallinfo2 sees no
 *                    other arena, so the tests run with MALLOC_ARENA_MAX=1, set by the build,
 *                    which puts every thread's allocations there), where FFM arenas and
 *                    Unsafe allocations live; {@link #UNREADABLE} without mallinfo2,
 *                    {@link #NOT_MEASURED} for another process
 * @param mappedBytes bytes of the connection tables and buffer pools of every loop of the
 *                    process not yet freed (anonymous mappings, which the direct figure does not
 *                    see); {@link #NOT_MEASURED} for another process
 * @param loops       one entry per loop of the groups given; empty for another process
 */
public record ResourceSnapshot(long pid, int fds, Map<String, Integer> files, int threads, long rssBytes,
                               long directBytes, long nativeHeapBytes, long mappedBytes, List<LoopUsage> loops) {
    /** A figure whose /proc source could not be read: any comparison with it fails. */
    public static final int UNREADABLE = -1;
    /** A figure not taken for this kind of snapshot (another process's JVM internals). */
    public static final long NOT_MEASURED = Long.MIN_VALUE;
    /**
     * What the JVM itself may hold from malloc beyond the caller's slack at any moment (the JIT's
     * compilation arenas come and go): a native leak smaller than this is not seen.
     */
    public static final long NATIVE_HEAP_SLACK = 16L * 1024 * 1024;
    private static final MethodHandle MALLINFO2 = mallinfo2();

    /** Copies {@code files} and {@code loops}, so a snapshot stays as taken. */
    public ResourceSnapshot {
        files = files == null ? null : Collections.unmodifiableMap(new TreeMap<>(files));
        loops = List.copyOf(loops);
    }

    /**
     * One loop's holdings.
     *
     * @param connections  connections open (closed ones the kernel still holds included)
     * @param buffersInUse pool buffers held by connections or the application (not those lent
     *                     to the kernel for receives)
     * @param bufferBytes  bytes of the pool buffers handed out (those lent to the kernel included)
     */
    public record LoopUsage(int connections, int buffersInUse, long bufferBytes) {
    }

    /**
     * Descriptors a process may legitimately hold more of at the end than at the start: those
     * of files under {@code root} (an open-file cache), at most {@code maxFiles} of them in all
     * and at most {@code maxEach} of any one path. Beyond that, the snapshot fails.
     */
    public record FileBound(Path root, int maxFiles, int maxEach) {
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
        Map<String, Integer> files = files(pid);
        return new ResourceSnapshot(pid, files == null ? UNREADABLE : count(files), files, threads(pid), rss(pid), direct,
                nativeHeap(), LoopMemory.liveRegionBytes(), loops);
    }

    /** Another process, from /proc only. */
    public static ResourceSnapshot ofProcess(long pid) {
        Map<String, Integer> files = files(pid);
        return new ResourceSnapshot(pid, files == null ? UNREADABLE : count(files), files, threads(pid), rss(pid),
                NOT_MEASURED, NOT_MEASURED, NOT_MEASURED, List.of());
    }

    /** The descriptors naming files under {@code root} (its real path), by path relative to it. */
    public Map<String, Integer> filesUnder(Path root) {
        if (files == null) {
            return Map.of();
        }
        String prefix = realPath(root) + "/";
        Map<String, Integer> under = new TreeMap<>();
        files.forEach((target, n) -> {
            if (target.startsWith(prefix)) {
                under.put(target.substring(prefix.length()), n);
            }
        });
        return under;
    }

    /**
     * What grew since {@code baseline}, one line each; empty when descriptors, threads, mapped
     * loop memory, open connections and held buffers are back, direct memory is within
     * {@code directSlackBytes}, and malloc'd memory within that plus {@link #NATIVE_HEAP_SLACK}.
     * Resident memory is not compared (the heap and the JIT grow it
     * legitimately). A figure unreadable in either snapshot is named too.
     */
    public List<String> growthSince(ResourceSnapshot baseline, long directSlackBytes) {
        return growthSince(baseline, directSlackBytes, null);
    }

    /**
     * Like {@link #growthSince(ResourceSnapshot, long)}, but descriptors of files under
     * {@code bound.root()} are not compared with the baseline: they are checked against the
     * bound instead (at most {@code maxFiles} in all, {@code maxEach} of one path), and every
     * other descriptor must be back.
     */
    public List<String> growthSince(ResourceSnapshot baseline, long directSlackBytes, FileBound bound) {
        List<String> grown = new ArrayList<>();
        if (fds == UNREADABLE || baseline.fds == UNREADABLE || files == null || baseline.files == null) {
            grown.add("descriptors unreadable: " + baseline.fds + " -> " + fds);
        } else if (bound == null) {
            if (fds > baseline.fds) {
                grown.add("descriptors " + baseline.fds + " -> " + fds);
            }
        } else {
            Map<String, Integer> held = filesUnder(bound.root());
            int others = fds - count(held);
            int othersBefore = baseline.fds - count(baseline.filesUnder(bound.root()));
            if (others > othersBefore) {
                grown.add("descriptors other than files under " + bound.root() + " " + othersBefore + " -> " + others);
            }
            if (count(held) > bound.maxFiles()) {
                grown.add("files under " + bound.root() + " held " + count(held) + " > bound " + bound.maxFiles()
                        + ": " + held);
            }
            held.forEach((path, n) -> {
                if (n > bound.maxEach()) {
                    grown.add("file " + path + " held " + n + " times > bound " + bound.maxEach());
                }
            });
        }
        if (threads == UNREADABLE || baseline.threads == UNREADABLE) {
            grown.add("threads unreadable: " + baseline.threads + " -> " + threads);
        } else if (threads > baseline.threads) {
            grown.add("threads " + baseline.threads + " -> " + threads);
        }
        compare(grown, "direct bytes", baseline.directBytes, directBytes, directSlackBytes);
        compare(grown, "native heap bytes", baseline.nativeHeapBytes, nativeHeapBytes, directSlackBytes + NATIVE_HEAP_SLACK);
        compare(grown, "mapped loop bytes", baseline.mappedBytes, mappedBytes, 0);
        if (loops.size() != baseline.loops.size()) {
            grown.add("loops " + baseline.loops.size() + " -> " + loops.size());
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
        }
        return grown;
    }

    private static void compare(List<String> grown, String what, long before, long now, long slack) {
        if (before == NOT_MEASURED && now == NOT_MEASURED) {
            return; // another process: not a figure of this kind of snapshot
        }
        if (before < 0 || now < 0) {
            grown.add(what + " unreadable or not measured in one snapshot: " + before + " -> " + now);
        } else if (now > before + slack) {
            grown.add(what + " " + before + " -> " + now);
        }
    }

    private static LoopUsage usage(EventLoop loop) {
        CompletableFuture<LoopUsage> f = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                LoopHoldings.Usage u = LoopHoldings.of(loop);
                f.complete(new LoopUsage(u.connections(), u.buffersInUse(), u.bufferBytes()));
            });
            return f.get(10, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            return new LoopUsage(0, 0, 0); // a stopped loop holds nothing (its memory is in mappedBytes)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading loop " + loop.index(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("loop " + loop.index() + " did not answer", e);
        }
    }

    /** uordblks + hblkhd of glibc's mallinfo2(3), or {@link #UNREADABLE}. */
    private static long nativeHeap() {
        if (MALLINFO2 == null) {
            return UNREADABLE;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) MALLINFO2.invokeExact((SegmentAllocator) arena);
            return info.get(JAVA_LONG, 7 * 8L) + info.get(JAVA_LONG, 4 * 8L); // uordblks, hblkhd
        } catch (Throwable t) {
            return UNREADABLE;
        }
    }

    /** struct mallinfo2 mallinfo2(void): ten size_t (glibc 2.33+); null where the C library lacks it. */
    private static MethodHandle mallinfo2() {
        Linker linker = Linker.nativeLinker();
        StructLayout info = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(10, JAVA_LONG));
        return linker.defaultLookup().find("mallinfo2")
                .map(address -> linker.downcallHandle(address, FunctionDescriptor.of(info)))
                .orElse(null);
    }

    private static int count(Map<String, Integer> files) {
        return files.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** readlink of every /proc/PID/fd entry, counted by target; null when the directory cannot be read. */
    private static Map<String, Integer> files(long pid) {
        Map<String, Integer> files = new TreeMap<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) entries::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed while we looked (the stream's own descriptor among them)
                }
                files.merge(target, 1, Integer::sum);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return files;
    }

    private static String realPath(Path p) {
        try {
            return p.toRealPath().toString();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize().toString();
        }
    }

    private static int threads(long pid) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return (int) tasks.filter(t -> !jvmWorker(t)).count();
        } catch (IOException | RuntimeException e) {
            return UNREADABLE;
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
            return UNREADABLE;
        }
        return UNREADABLE;
    }
}
