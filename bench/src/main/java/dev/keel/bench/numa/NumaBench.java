package dev.keel.bench.numa;

import dev.keel.ffm.Mman;
import dev.keel.numa.IdSet;
import dev.keel.numa.NumaMemory;
import dev.keel.numa.NumaTopology;
import dev.keel.numa.PageHistogram;
import dev.keel.numa.Placement;
import dev.keel.numa.ThreadPlacement;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Memory latency and bandwidth of node-bound memory as seen from the CPU this JVM runs on:
 * run it pinned to one node's CPUs ({@code taskset -c}) with {@code --mem-node} each node in
 * turn to get the local-vs-remote matrix (bench/numa-local-remote.sh does that). Also times
 * what keel's NUMA calls cost: bind + pre-fault, and locating pages with move_pages.
 *
 * <p>Not a test and not JMH: one process per (CPU node, memory node) cell is the point, and the
 * numbers are printed for docs/numa-bench.md.
 *
 * <pre>
 * NumaBench [--mem-node N] [--size MIB] [--rounds R] [--huge]
 * </pre>
 */
public final class NumaBench {
    private static final int LINE = 64;
    private static final long MIB = 1L << 20;

    private NumaBench() {
    }

    public static void main(String[] args) {
        NumaTopology topology = NumaTopology.system();
        ThreadPlacement here = ThreadPlacement.current(topology);
        int memNode = here.node() >= 0 ? here.node() : topology.allowedNodes().first();
        long sizeMib = 256;
        int rounds = 5;
        boolean huge = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mem-node" -> memNode = Integer.parseInt(args[++i]);
                case "--size" -> sizeMib = Long.parseLong(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--huge" -> huge = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        long bytes = sizeMib * MIB;
        String where = here.allowedNodes(topology).equals(IdSet.of(memNode)) ? "local"
                : here.allowedNodes(topology).contains(memNode) ? "unpinned, may be local" : "remote";
        System.out.printf(Locale.ROOT, "keel numa bench: threads on cpus %s (nodes %s), memory bound to node %d (%s), "
                        + "distance %d, %d MiB%s, %s, JDK %s%n",
                here.allowedCpus(), here.allowedNodes(topology), memNode, where,
                topology.distance(here.node(), memNode), sizeMib, huge ? " MADV_HUGEPAGE" : "",
                System.getProperty("os.name") + " " + System.getProperty("os.version"), Runtime.version());

        NumaMemory spec = NumaMemory.bind(memNode).withPrefault();
        if (huge) {
            spec = spec.withHugePages();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = spec.allocate(arena, bytes);
            PageHistogram h = Placement.verify(m, IdSet.of(memNode));
            System.out.printf(Locale.ROOT, "placement: %s%n", h);
            System.out.printf(Locale.ROOT, "latency, dependent loads over %d MiB  : %6.1f ns/load%n", sizeMib,
                    best(rounds, () -> chase(m)));
            System.out.printf(Locale.ROOT, "read bandwidth, sequential         : %6.2f GB/s%n",
                    bytes / best(rounds, () -> read(m)));
            System.out.printf(Locale.ROOT, "write bandwidth, sequential        : %6.2f GB/s%n",
                    bytes / best(rounds, () -> write(m)));
        }
        costs(memNode, rounds);
    }

    /** Cost of keel's own calls: bind + pre-fault against plain mmap + touch, and move_pages. */
    private static void costs(int node, int rounds) {
        long bytes = 64 * MIB;
        double bound = best(rounds, () -> {
            long t0 = System.nanoTime();
            try (Arena arena = Arena.ofConfined()) {
                NumaMemory.bind(node).withPrefault().allocate(arena, bytes);
                return System.nanoTime() - t0;
            }
        });
        double plain = best(rounds, () -> {
            long t0 = System.nanoTime();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = Mman.mapAnonymous(arena, bytes, dev.keel.ffm.gen.LinuxConstants.PROT_READ
                        | dev.keel.ffm.gen.LinuxConstants.PROT_WRITE, 0);
                long page = Mman.pageSize();
                for (long off = 0; off < bytes; off += page) {
                    m.set(JAVA_BYTE, off, (byte) 0);
                }
                return System.nanoTime() - t0;
            }
        });
        System.out.printf(Locale.ROOT, "bind + pre-fault 64 MiB            : %6.2f ms (mmap + touch, default policy: %.2f ms)%n",
                bound / 1e6, plain / 1e6);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = NumaMemory.bind(node).withPrefault().allocate(arena, bytes);
            long pages = bytes / Mman.pageSize();
            double locate = best(rounds, () -> {
                long t0 = System.nanoTime();
                Placement.of(m);
                return System.nanoTime() - t0;
            });
            System.out.printf(Locale.ROOT, "move_pages histogram, %d pages   : %6.2f ms (%.0f ns/page)%n",
                    pages, locate / 1e6, locate / pages);
        }
    }

    private interface Run {
        double nanos();
    }

    private static double best(int rounds, Run run) {
        double best = Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            best = Math.min(best, run.nanos());
        }
        return best;
    }

    // Each cache line holds the offset of the next in one random cycle (Sattolo), so every
    // load depends on the one before and the prefetcher cannot guess: latency, not bandwidth.
    private static long chaseStart = -1;
    private static long sink;

    private static double chase(MemorySegment m) {
        int lines = (int) (m.byteSize() / LINE);
        if (chaseStart < 0) {
            int[] order = new int[lines];
            for (int i = 0; i < lines; i++) {
                order[i] = i;
            }
            SplittableRandom random = new SplittableRandom(42);
            for (int i = lines - 1; i > 0; i--) {
                int j = random.nextInt(i);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i = 0; i < lines; i++) {
                m.set(JAVA_LONG, (long) order[i] * LINE, (long) order[(i + 1) % lines] * LINE);
            }
            chaseStart = (long) order[0] * LINE;
        }
        long loads = Math.min(lines, 4_000_000);
        long off = chaseStart;
        long t0 = System.nanoTime();
        for (long i = 0; i < loads; i++) {
            off = m.get(JAVA_LONG, off);
        }
        long t = System.nanoTime() - t0;
        sink += off;
        return (double) t / loads;
    }

    private static double read(MemorySegment m) {
        long sum = 0;
        long t0 = System.nanoTime();
        for (long off = 0; off < m.byteSize(); off += Long.BYTES) {
            sum += m.get(JAVA_LONG, off);
        }
        long t = System.nanoTime() - t0;
        sink += sum;
        return t;
    }

    private static double write(MemorySegment m) {
        long t0 = System.nanoTime();
        m.fill((byte) 1);
        long t = System.nanoTime() - t0;
        chaseStart = -1; // the chain is overwritten
        return t;
    }
}
