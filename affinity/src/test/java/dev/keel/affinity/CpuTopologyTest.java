package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import dev.keel.affinity.testing.Fixtures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Topology read from each recorded machine, against values worked out by hand from {@link Fixtures}. */
class CpuTopologyTest {
    @TempDir
    Path dir;

    private static CpuSet list(String s) {
        return CpuSet.parseList(s);
    }

    private static Cpu cpu(CpuTopology t, int id) {
        return t.cpu(id).orElseThrow();
    }

    @Test
    void shouldReadTwoSocketsWithSmtSiblingsCachesAndNodes() {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir));
        assertEquals(32, t.cpus().size());
        assertEquals(list("0-31"), t.online());
        assertEquals(16, t.physicalCores().size());
        assertEquals(list("0,16"), t.physicalCores().get(0));
        assertEquals(list("8,24"), t.physicalCores().get(8));

        Cpu c24 = cpu(t, 24);
        assertEquals(1, c24.socket());
        assertEquals(0, c24.coreId(), "core_id repeats on each socket");
        assertEquals(8, c24.core(), "the machine-wide core index tells the sockets' cores apart");
        assertEquals(list("8,24"), c24.siblings());
        assertEquals(list("8"), c24.otherThreads());
        assertEquals(1, c24.node());
        assertEquals(list("8,24"), c24.l2().orElseThrow().sharedCpus());
        assertEquals(list("8-15,24-31"), c24.l3().orElseThrow().sharedCpus());
        assertEquals(32L << 20, c24.l3().orElseThrow().sizeBytes());
        assertEquals(CoreKind.UNIFORM, c24.kind());

        assertEquals(List.of(0, 1), t.nodes().stream().map(NumaNode::id).toList());
        assertEquals(list("0-7,16-23"), t.node(0).orElseThrow().cpus());
        assertEquals(21, t.node(0).orElseThrow().distanceTo(1));
        assertEquals(10, t.node(1).orElseThrow().distanceTo(1));
        assertFalse(t.hybrid());
        assertEquals("none", t.cgroup().version(), "no cgroup files in this recording");
    }

    @Test
    void shouldKeepIsolatedCpusOutOfTheUsableSetUnlessTheProcessStartedOnThem() {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir));
        assertEquals(list("7,23"), t.isolated());
        assertEquals(list("0-6,8-22,24-31"), t.startupAffinity());
        assertEquals(list("0-6,8-22,24-31"), t.usable());
        assertTrue(cpu(t, 7).isolated());
        assertEquals("not in start-up affinity 0-6,8-22,24-31 (isolated: start with taskset -c to use it)",
                cpu(t, 7).whyNotUsable().orElseThrow());
        assertTrue(t.whyNotAllowed(7).isEmpty(), "the kernel would still let a thread be pinned there");
    }

    @Test
    void shouldReadFourNodesWithIsolatedNohzFullCpusStartedOnPurpose() {
        CpuTopology t = CpuTopology.load(Fixtures.fourNodes(dir));
        assertEquals(List.of(0, 1, 2, 3), t.nodes().stream().map(NumaNode::id).toList());
        assertEquals(list("4-7,20-23"), t.node(1).orElseThrow().cpus());
        assertEquals(12, t.node(0).orElseThrow().distanceTo(3));
        assertEquals(1, cpu(t, 21).node());
        assertEquals(list("0-3,16-19"), cpu(t, 16).l3().orElseThrow().sharedCpus());
        assertEquals(list("12-15,28-31"), t.isolated());
        assertEquals(list("12-15,28-31"), t.nohzFull());
        assertTrue(cpu(t, 28).nohzFull());
        assertEquals(list("0-31"), t.usable(), "started with taskset over every CPU, isolated ones included");
    }

    @Test
    void shouldReportAMemorylessNode() {
        CpuTopology t = CpuTopology.load(Fixtures.memorylessNode(dir));
        assertTrue(t.node(0).orElseThrow().hasMemory());
        NumaNode n1 = t.node(1).orElseThrow();
        assertFalse(n1.hasMemory());
        assertEquals(list("4-7"), n1.cpus());
        assertEquals(list("0-7"), t.usable(), "a memoryless node's CPUs still run threads");
    }

    @Test
    void shouldKeepGapsInNodeNumbers() {
        CpuTopology t = CpuTopology.load(Fixtures.nodesZeroAndEight(dir));
        assertEquals(List.of(0, 8), t.nodes().stream().map(NumaNode::id).toList());
        assertEquals(8, cpu(t, 5).node());
        assertEquals(Map.of(0, 21, 8, 10), t.node(8).orElseThrow().distances(),
                "distance columns follow the online node numbers, not 0..n-1");
        assertTrue(t.node(1).isEmpty());
    }

    @Test
    void shouldTellPerformanceFromEfficiencyCores() {
        CpuTopology t = CpuTopology.load(Fixtures.hybrid(dir));
        assertTrue(t.hybrid());
        assertEquals(16, t.physicalCores().size(), "8 P cores with 2 threads, 8 E cores with 1");
        Cpu p = cpu(t, 1);
        assertEquals(CoreKind.PERFORMANCE, p.kind());
        assertEquals(list("0-1"), p.siblings());
        assertEquals(1024, p.capacity().orElseThrow());
        Cpu e = cpu(t, 21);
        assertEquals(CoreKind.EFFICIENCY, e.kind());
        assertEquals(list("21"), e.siblings());
        assertEquals(623, e.capacity().orElseThrow());
        assertEquals(list("20-23"), e.l2().orElseThrow().sharedCpus(), "E cores share an L2 per cluster of 4");
        assertEquals(list("0-23"), e.l3().orElseThrow().sharedCpus());
    }

    @Test
    void shouldLimitAContainerToItsCgroupV2CpusetAndReportItsQuota() {
        CpuTopology t = CpuTopology.load(Fixtures.containerV2(dir));
        assertEquals(16, t.cpus().size(), "the host's CPUs are all listed");
        assertEquals(list("2-3"), t.usable());
        CgroupCpus cg = t.cgroup();
        assertEquals("v2", cg.version());
        assertEquals("/", cg.cgroupPath(), "a cgroup namespace shows the container's cgroup as /");
        assertEquals(list("2-3"), cg.cpus().orElseThrow());
        assertEquals("/sys/fs/cgroup/cpuset.cpus.effective", cg.cpusFile().orElseThrow());
        assertEquals(1.5, cg.quotaCpus().orElseThrow(), 1e-9);
        assertEquals("/sys/fs/cgroup/cpu.max", cg.quotaFile().orElseThrow());
        assertEquals("outside cgroup cpuset 2-3", cpu(t, 10).whyNotUsable().orElseThrow(),
                "CPU 2's sibling belongs to the host, not to us");
        assertEquals("CPU 0 is outside the cgroup cpuset 2-3 (/sys/fs/cgroup/cpuset.cpus.effective)",
                t.whyNotAllowed(0).orElseThrow());
        assertEquals("v2 /: cpuset 2-3, quota 1.50 CPUs (150000/100000 us)", cg.describe());
    }

    @Test
    void shouldFallBackToCgroupV1WhenV2HasNoCpuControllers() {
        CpuTopology t = CpuTopology.load(Fixtures.containerV1(dir));
        CgroupCpus cg = t.cgroup();
        assertEquals("v1", cg.version());
        assertEquals("/docker/abc", cg.cgroupPath());
        assertEquals(list("2-3"), cg.cpus().orElseThrow());
        assertEquals("/sys/fs/cgroup/cpuset/docker/abc/cpuset.effective_cpus", cg.cpusFile().orElseThrow());
        assertEquals(2.0, cg.quotaCpus().orElseThrow(), 1e-9);
        assertEquals("/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", cg.quotaFile().orElseThrow());
        assertEquals(list("2-3"), t.usable());
    }

    @Test
    void shouldListAnOfflineCpu0WithoutTopologyAndRefuseIt() {
        CpuTopology t = CpuTopology.load(Fixtures.cpu0Offline(dir));
        assertEquals(list("0-3"), t.present());
        assertEquals(list("1-3"), t.online());
        assertEquals(list("0"), t.offline());
        Cpu c0 = cpu(t, 0);
        assertFalse(c0.online());
        assertEquals(-1, c0.socket());
        assertEquals(-1, c0.core());
        assertTrue(c0.caches().isEmpty());
        assertEquals(0, c0.node(), "the node link survives offlining");
        assertEquals("offline", c0.whyNotUsable().orElseThrow());
        assertEquals("CPU 0 is offline", t.whyNotAllowed(0).orElseThrow());
        assertEquals(list("1-3"), t.usable());
        assertEquals(3, t.physicalCores().size());
        assertEquals(0, cpu(t, 1).core(), "core indexes count online cores only");
    }

    @Test
    void shouldHandleMoreThan256CpusWithoutACap() throws IOException {
        CpuTopology t = CpuTopology.load(Fixtures.sharedLarge());
        assertEquals(384, t.cpus().size());
        assertEquals(list("0-383"), t.possible());
        assertEquals(list("0-299"), t.usable());
        Cpu last = cpu(t, 383);
        assertEquals(1, last.socket());
        assertEquals(1, last.node());
        assertEquals(list("191,383"), last.siblings());
        assertEquals(191, last.core());
        assertEquals("not in start-up affinity 0-299", cpu(t, 300).whyNotUsable().orElseThrow());

        // The hex mask alone (older kernels print no Cpus_allowed_list): 384 bits, 12 groups.
        Path root = Fixtures.cpu0Offline(dir);
        Files.writeString(root.resolve("proc/self/status"), "Name:\tjava\nCpus_allowed:\t"
                + list("1-2,257-299").toMask(384) + "\n");
        assertEquals(list("1-2,257-299"), CpuTopology.load(root).startupAffinity());
        assertEquals(list("1-2"), CpuTopology.load(root).usable(), "a mask wider than the machine is cut to it");
    }

    @Test
    void shouldSayWhyACpuThatDoesNotExistIsRefused() {
        CpuTopology t = CpuTopology.load(Fixtures.cpu0Offline(dir));
        assertEquals("CPU 4 does not exist (this machine has CPUs 0-3)", t.whyNotAllowed(4).orElseThrow());
        assertEquals("CPU 4 does not exist (this machine has CPUs 0-3)", t.whyNotUsable(4).orElseThrow());
    }

    @Test
    void shouldRefuseARootThatDoesNotExistClearly() {
        Path missing = dir.resolve("no-such-machine");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuTopology.load(missing));
        assertEquals("sysfs root " + missing + " does not exist or is not a directory", e.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> CpuTopology.load(dir));
        assertTrue(empty.getMessage().startsWith("no CPU tree at " + dir.resolve("sys/devices/system/cpu")),
                empty.getMessage());
    }

    @Test
    void shouldDescribeThisMachineConsistently() throws IOException {
        CpuTopology t = CpuTopology.system();
        CpuSet online = CpuSet.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        assertEquals(online, t.online());
        assertFalse(t.usable().isEmpty());
        assertTrue(online.containsAll(t.usable()));
        assertTrue(Runtime.getRuntime().availableProcessors() <= t.usable().size(),
                "the JVM never counts more CPUs than the process may use");
        for (Cpu c : t.cpus()) {
            if (c.online()) {
                assertTrue(c.siblings().contains(c.id()), "CPU " + c.id() + " is one of its core's threads");
                assertTrue(t.node(c.node()).orElseThrow().cpus().contains(c.id()), "CPU " + c.id() + "'s node lists it");
            }
        }
        assertTrue(t.whyNotAllowed(t.possible().last() + 1).isPresent());
    }
}
