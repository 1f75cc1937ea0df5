package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.keel.affinity.testing.Fixtures;
import dev.keel.affinity.testing.RecordedMachines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IRQ placements on the recorded machines: the four-node machine whose NIC eth0 (node 2, local
 * CPUs 8-11,24-27, CPU n and n+16 siblings) has four vectors, and this development machine's
 * virtio NIC. Writes go to the recorded tree, never to this machine's /proc.
 */
class IrqPlanTest {
    @TempDir
    Path dir;

    private static List<CpuSet> targets(IrqPlan p) {
        return p.moves().stream().map(IrqPlan.Move::to).toList();
    }

    @Test
    void shouldPutIrqsNearTheNicOnCoresWithoutALoop() {
        Path root = Fixtures.fourNodes(dir);
        CpuTopology t = CpuTopology.load(root);
        IrqPlan p = IrqPlan.of(t, NicInfo.read(root, "eth0"), CpuSet.of(8, 9), IrqPlan.Mode.APART);
        assertEquals(List.of(CpuSet.of(10), CpuSet.of(11), CpuSet.of(26), CpuSet.of(27)), targets(p),
                "8, 9 and their siblings 24, 25 run loops");
        assertEquals("apart from the loops on CPUs 8-9: near the NIC, on cores without a loop", p.why());
        assertEquals(CpuSet.parseList("10-11,26-27"), p.irqCpus());
        assertEquals("echo 10 > /proc/irq/120/smp_affinity_list", p.changes().get(0).command());
        assertEquals(List.of(120, 121, 122, 123), p.changes().stream().map(IrqPlan.Move::irq).toList());
    }

    @Test
    void shouldPutIrqsBesideTheLoopsWhenAsked() {
        Path root = Fixtures.fourNodes(dir);
        IrqPlan p = IrqPlan.of(CpuTopology.load(root), NicInfo.read(root, "eth0"), CpuSet.of(8, 9), IrqPlan.Mode.BESIDE);
        assertEquals(List.of(CpuSet.of(8), CpuSet.of(9), CpuSet.of(8), CpuSet.of(9)), targets(p));
        assertEquals(List.of(120, 122, 123), p.changes().stream().map(IrqPlan.Move::irq).toList(),
                "IRQ 121 already runs on CPU 9 only");
    }

    @Test
    void shouldLeaveTheNicsNodeAndKeepIsolatedCpusLastWhenItsCoresAllRunLoops() {
        Path root = Fixtures.fourNodes(dir);
        IrqPlan p = IrqPlan.of(CpuTopology.load(root), NicInfo.read(root, "eth0"), CpuSet.parseList("8-11,24-27"),
                IrqPlan.Mode.APART);
        assertEquals(List.of(CpuSet.of(0), CpuSet.of(1), CpuSet.of(2), CpuSet.of(3)), targets(p),
                "housekeeping CPUs first; 12-15 and 28-31 are isolated");
        assertTrue(p.why().endsWith("on cores without a loop (none near the NIC is free)"), p.why());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IrqPlan.of(CpuTopology.load(root),
                NicInfo.read(root, "eth0"), CpuSet.range(0, 31), IrqPlan.Mode.APART));
        assertTrue(e.getMessage().startsWith("every online CPU runs a loop (0-31)"), e.getMessage());
    }

    @Test
    void shouldWriteThePlacementBelowTheRootAndReadItBack() throws IOException {
        Path root = Fixtures.fourNodes(dir);
        IrqPlan p = IrqPlan.of(CpuTopology.load(root), NicInfo.read(root, "eth0"), CpuSet.of(8, 9), IrqPlan.Mode.APART);
        // IRQ 123 will not take it: its affinity file becomes a link to nothing, whose write error stands in for EIO.
        Path refused = root.resolve("proc/irq/123/smp_affinity_list");
        Files.delete(refused);
        Files.createSymbolicLink(refused, root.resolve("no-such-file"));
        List<IrqPlan.Applied> done = p.apply(root);
        assertEquals(4, done.size());
        assertEquals(CpuSet.of(10), done.get(0).after());
        assertTrue(done.get(0).error().isEmpty());
        assertEquals("10", Files.readString(root.resolve("proc/irq/120/smp_affinity_list")).strip());
        assertTrue(done.get(3).error().isPresent(), "a refused IRQ is reported, the others still written");
        assertEquals(CpuSet.of(11), NicInfo.read(root, "eth0").irqs().get(1).affinity());
    }

    @Test
    void shouldFindIrqbalanceByItsProcessName() {
        assertEquals(812, IrqPlan.irqbalance(Fixtures.fourNodes(dir.resolve("a"))).orElseThrow());
        assertTrue(IrqPlan.irqbalance(RecordedMachines.unpackMachine("vm-virtio-eth0", dir.resolve("b"))).isEmpty());
    }

    @Test
    void shouldPlaceTheRecordedVirtioNicsIrqsOffTheLoopsCpu() {
        Path root = RecordedMachines.unpackMachine("vm-virtio-eth0", dir);
        IrqPlan p = IrqPlan.of(CpuTopology.load(root), NicInfo.read(root, "eth0"), CpuSet.of(1), IrqPlan.Mode.APART);
        assertEquals(List.of(CpuSet.of(0), CpuSet.of(0), CpuSet.of(0)), targets(p), "CPU 0 is the only other core");
        assertEquals(3, p.changes().size(), "each now may run on 0-1");
    }
}
