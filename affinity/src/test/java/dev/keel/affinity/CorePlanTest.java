package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import dev.keel.affinity.testing.Fixtures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plans on the recorded machines, with the CPUs worked out by hand from {@link Fixtures}. */
class CorePlanTest {
    @TempDir
    Path dir;

    private static int[] range(int first, int last) {
        return IntStream.rangeClosed(first, last).toArray();
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void shouldTakeWholeCoresOfOneNodeBeforeTheOtherNodeAndSiblingsLast() {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir));
        // Node 1 has 16 usable CPUs, node 0 only 14 (isolated 7 and 23 are not in the start-up mask).
        CorePlan four = CorePlan.on(t).plan(4);
        assertArrayEquals(new int[] {8, 9, 10, 11}, four.cpus());
        assertEquals("whole core 8 (sibling 24 left idle); node 1 (most usable CPUs)", four.reason(0));

        CorePlan sixteen = CorePlan.on(t).plan(16);
        assertArrayEquals(concat(range(8, 15), range(1, 6), new int[] {0, 24}), sixteen.cpus(),
                "node 1's cores, node 0's cores with CPU 0's last, then the first sibling");
        assertEquals("whole core 1 (sibling 17 left idle); node 0 (next after node 1, distance 21)", sixteen.reason(8));
        assertEquals("SMT sibling of CPU 8 on core 8: every usable core already has a loop; node 1 (most usable CPUs)",
                sixteen.reason(15));
        assertTrue(sixteen.reason(14).contains("CPU 0's core comes last"), sixteen.reason(14));
    }

    @Test
    void shouldPutIsolatedCpusFirstEvenBeforeTheNicsNode() {
        CpuTopology t = CpuTopology.load(Fixtures.fourNodes(dir));
        NicInfo eth0 = NicInfo.read(t.root(), "eth0");
        CorePlan plan = CorePlan.on(t).nearNic(eth0).plan(10);
        assertArrayEquals(new int[] {12, 13, 14, 15, 28, 29, 30, 31, 8, 9}, plan.cpus());
        assertTrue(plan.reason(0).startsWith("isolated (isolcpus, nohz_full); whole core 12"), plan.reason(0));
        assertEquals("not isolated: the isolated CPUs are all taken; whole core 8 (sibling 24 left idle);"
                + " node 2 (NIC eth0's node)", plan.reason(8));
    }

    @Test
    void shouldStartOnTheNicsNodeWhenNothingIsIsolated() {
        CpuTopology t = CpuTopology.load(Fixtures.fourNodes(dir));
        CorePlan plan = CorePlan.on(t).excluding(t.isolated(), "isolated for another job")
                .nearNic(NicInfo.read(t.root(), "eth0")).plan(6);
        assertArrayEquals(new int[] {8, 9, 10, 11, 1, 2}, plan.cpus(),
                "node 2's cores, then the nearest node (all at distance 12, so node 0) with CPU 0 last");
        assertEquals("whole core 1 (sibling 17 left idle); node 0 (next after node 2, distance 12)", plan.reason(4));
    }

    @Test
    void shouldPreferTheNodeWithTheMostUsableCpusWithoutANic() {
        CpuTopology t = CpuTopology.load(Fixtures.fourNodes(dir));
        assertArrayEquals(new int[] {12, 13, 14, 15, 28, 29, 30, 31, 1, 2}, CorePlan.on(t).plan(10).cpus(),
                "isolated first, then node 0 (ties go to the lowest node) with CPU 0 last");
    }

    @Test
    void shouldUseAMemorylessNodeLastAndSaySo() {
        CpuTopology t = CpuTopology.load(Fixtures.memorylessNode(dir));
        CorePlan plan = CorePlan.on(t).plan(6);
        assertArrayEquals(new int[] {1, 2, 3, 0, 4, 5}, plan.cpus());
        assertEquals("core 4; node 1 (next after node 0, distance 21), which has no memory of its own", plan.reason(4));
    }

    @Test
    void shouldPlanAcrossNodesNumberedZeroAndEight() {
        CpuTopology t = CpuTopology.load(Fixtures.nodesZeroAndEight(dir));
        CorePlan plan = CorePlan.on(t).plan(5);
        assertArrayEquals(new int[] {1, 2, 3, 0, 4}, plan.cpus());
        assertEquals("core 4; node 8 (next after node 0, distance 21)", plan.reason(4));
        assertArrayEquals(new int[] {4, 5, 6, 7, 1}, CorePlan.on(t).preferNode(8).plan(5).cpus());
    }

    @Test
    void shouldTakePerformanceCoresThenEfficiencyCoresBeforeAnySibling() {
        CpuTopology t = CpuTopology.load(Fixtures.hybrid(dir));
        CorePlan plan = CorePlan.on(t).plan(10);
        assertArrayEquals(new int[] {2, 4, 6, 8, 10, 12, 14, 0, 16, 17}, plan.cpus());
        assertEquals("whole core 1 (sibling 3 left idle); node 0; performance core; capacity 1024", plan.reason(0));
        assertEquals("core 8; node 0; efficiency core: the performance cores are taken; capacity 623", plan.reason(8));
    }

    @Test
    void shouldPlanOnlyInsideTheContainersCpuset() {
        CpuTopology t = CpuTopology.load(Fixtures.containerV2(dir));
        CorePlan plan = CorePlan.on(t).plan(2);
        assertArrayEquals(new int[] {2, 3}, plan.cpus());
        assertEquals("whole core 2 (sibling 10 is not this process's: something else may run there); node 0",
                plan.reason(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CorePlan.on(t).plan(3));
        assertEquals("cannot plan 3 loops on their own CPUs: this process may use 2 (2-3)", e.getMessage());
    }

    @Test
    void shouldSkipAnOfflineCpu() {
        CpuTopology t = CpuTopology.load(Fixtures.cpu0Offline(dir));
        assertArrayEquals(new int[] {1, 2, 3}, CorePlan.on(t).plan(3).cpus());
    }

    @Test
    void shouldPlanPastTwoHundredFiftySixCpus() {
        CpuTopology t = CpuTopology.load(Fixtures.sharedLarge());
        // Usable 0-299: node 0 holds 192 of them (0-95, 192-287), node 1 108 (96-191, 288-299).
        assertArrayEquals(concat(range(1, 95), new int[] {0}, range(96, 191), range(193, 200)),
                CorePlan.on(t).plan(200).cpus());
    }

    @Test
    void shouldTreatASiblingOfALeftOutCpuAsShared() {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir));
        CorePlan plan = CorePlan.on(t).excluding(CpuSet.of(8), "reserved by pid 42").plan(15);
        assertArrayEquals(concat(range(9, 15), range(1, 6), new int[] {0, 24}), plan.cpus());
        assertEquals("SMT sibling on core 8, which it shares with left-out CPU 8: no free whole core was left;"
                + " node 1 (most usable CPUs)", plan.reason(14));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CorePlan.on(t).excluding(t.usable(), "reserved by pid 42").plan(1));
        assertEquals("cannot plan 1 loops on their own CPUs: this process may use 30 (0-6,8-22,24-31),"
                + " of which 0-6,8-22,24-31 are left out (reserved by pid 42)", e.getMessage());
    }

    @Test
    void shouldMakeNoMoreLoopsByDefaultThanTheCpuQuotaLetsRun() {
        // cpuset 2-3 (two cores: 2 and 10, 3 and 11 are siblings) under cpu.max "150000 100000".
        CpuTopology v2 = CpuTopology.load(Fixtures.containerV2(dir.resolve("v2")));
        CorePlan.Size size = CorePlan.defaultSize(v2, CpuSet.empty());
        assertEquals(1, size.loops(), "1.5 CPUs of quota make one loop");
        assertEquals("the cgroup's CPU quota is 1.50 CPUs (150000/100000 us, /sys/fs/cgroup/cpu.max), so 1 loop"
                + " rather than 2 (one per usable physical core)", size.reason());
        // cgroup v1, cpuset 2-3, quota 200000/100000: two CPUs, two cores.
        CpuTopology v1 = CpuTopology.load(Fixtures.containerV1(dir.resolve("v1")));
        assertEquals(new CorePlan.Size(2, "one per usable physical core; the cgroup's CPU quota of 2.00 CPUs"
                + " (200000/100000 us, /sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us) allows them"),
                CorePlan.defaultSize(v1, CpuSet.empty()));
        CpuTopology host = CpuTopology.load(Fixtures.twoSocketSmt(dir.resolve("host")));
        assertEquals(new CorePlan.Size(15, "one per usable physical core"), CorePlan.defaultSize(host, CpuSet.empty()));
        assertEquals(new CorePlan.Size(13, "one per usable physical core not left out"),
                CorePlan.defaultSize(host, CpuSet.parseList("8-9,24-25")));
    }

    @Test
    void shouldPlanOnThisMachineWithinTheUsableCpus() {
        CpuSet usable = CpuTopology.system().usable();
        CorePlan plan = CorePlan.forLoops(usable.size());
        assertEquals(usable, plan.asSet(), "one loop per usable CPU, none twice");
        assertEquals(usable.size(), plan.toString().lines().count());
        assertThrows(IllegalArgumentException.class, () -> CorePlan.forLoops(usable.size() + 1));
        assertThrows(IllegalArgumentException.class, () -> CorePlan.forLoops(0));
    }
}
