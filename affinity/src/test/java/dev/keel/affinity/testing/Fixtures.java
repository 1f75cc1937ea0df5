package dev.keel.affinity.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.Map;
import java.util.TreeMap;
import dev.keel.affinity.CpuSet;

/**
 * The recorded machines the tests read, each written by {@link SysfsFixture} into a directory.
 * The expected values in the tests are worked out by hand from these descriptions.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /**
     * Two sockets x 8 cores x 2 threads = CPUs 0-31, x86 numbering (CPU n and n+16 are
     * siblings; socket 0 = CPUs 0-7,16-23 = node 0), one L3 per socket, distance 21 across.
     * isolcpus=7,23 (core 7), which keeps them out of the start-up mask.
     */
    public static Path twoSocketSmt(Path dir) {
        return SysfsFixture.grid(2, 8, 2, false, 1, 8).isolated(CpuSet.of(7, 23)).writeTo(dir);
    }

    /**
     * One socket split in four nodes (AMD NPS4-like): 16 cores x 2 threads = CPUs 0-31, CPU n
     * and n+16 siblings, cores 0-3 on node 0, 4-7 on node 1, ...; an L3 per 4 cores; distance
     * 12 between nodes. Node 3's CPUs (12-15,28-31) are isolated and nohz_full, and the process
     * was started with taskset over all 32. NIC eth0 sits on node 2 with four MSI-X vectors;
     * irqbalance runs (pid 812).
     */
    public static Path fourNodes(Path dir) {
        Map<Integer, String> irqs = new TreeMap<>();
        irqs.put(120, "8-11,24-27");
        irqs.put(121, "9");
        irqs.put(122, "10");
        irqs.put(123, "0-31");
        return SysfsFixture.grid(1, 16, 2, false, 4, 4)
                .isolated(CpuSet.parseList("12-15,28-31")).nohzFull(CpuSet.parseList("12-15,28-31"))
                .affinity(CpuSet.range(0, 31))
                .nic("eth0", "0000:41:00.0", 2, irqs).irqbalance(812).writeTo(dir);
    }

    /** Two sockets x 4 cores, no SMT: node 0 = CPUs 0-3 with memory, node 1 = CPUs 4-7 without. */
    public static Path memorylessNode(Path dir) {
        return SysfsFixture.grid(2, 4, 1, false, 1, 4).memoryless(1).writeTo(dir);
    }

    /** Two sockets x 4 cores whose nodes are numbered 0 and 8 (CPUs 0-3 and 4-7). */
    public static Path nodesZeroAndEight(Path dir) {
        return SysfsFixture.grid(2, 4, 1, false, 1, 4).nodeIds(0, 8).writeTo(dir);
    }

    /**
     * Intel hybrid: 8 performance cores with 2 threads (CPUs 0-15, siblings adjacent), then 8
     * efficiency cores (CPUs 16-23) in two clusters of 4 sharing an L2; capacities 1024 / 623.
     */
    public static Path hybrid(Path dir) {
        return SysfsFixture.hybrid(8, 8).writeTo(dir);
    }

    /**
     * A 16-CPU host (8 cores x 2, CPU n and n+8 siblings); the process runs in a container
     * (cgroup v2, own cgroup namespace) limited to CPUs 2-3 with a quota of 1.5 CPUs.
     */
    public static Path containerV2(Path dir) {
        return SysfsFixture.grid(1, 8, 2, false, 1, 8)
                .cgroupV2("/kubepods/burstable/pod1/ctr", "2-3", "150000 100000", true)
                .affinity(CpuSet.of(2, 3)).writeTo(dir);
    }

    /** The same host with cgroup v1 (docker): cpuset 2-3 at /docker/abc, quota 200000/100000. */
    public static Path containerV1(Path dir) {
        return SysfsFixture.grid(1, 8, 2, false, 1, 8)
                .cgroupV1("/docker/abc", "2-3", 200_000, 100_000)
                .affinity(CpuSet.of(2, 3)).writeTo(dir);
    }

    /** Four single-thread cores, CPU 0 taken offline (echo 0 > cpu0/online). */
    public static Path cpu0Offline(Path dir) {
        return SysfsFixture.grid(1, 4, 1, false, 1, 4).offline(CpuSet.of(0)).writeTo(dir);
    }

    /**
     * 384 CPUs: two sockets x 96 cores x 2 threads (CPU n and n+192 siblings), nodes 0 and 1;
     * the process was started on CPUs 0-299 only (its mask spans 12 words of 32 bits).
     */
    public static Path large(Path dir) {
        return SysfsFixture.grid(2, 96, 2, false, 1, 8).affinity(CpuSet.range(0, 299)).writeTo(dir);
    }

    private static Path sharedLarge;

    /**
     * {@link #large} written once per test JVM (some 16,000 files take seconds to write) and
     * deleted when the JVM exits. Read it, never change it.
     */
    public static synchronized Path sharedLarge() {
        if (sharedLarge == null) {
            try {
                Path dir = Files.createTempDirectory("keel-large-fixture");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
                sharedLarge = large(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sharedLarge;
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Best effort at JVM exit: a leftover temp directory is harmless.
        }
    }
}
