package dev.keel.affinity;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.keel.affinity.testing.HwlocView;
import dev.keel.affinity.testing.RecordedMachines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link CpuTopology} on the machines the hwloc project recorded, held to hwloc's own view of
 * each: the CPUs shown (online and allowed by the cgroup) and hidden, packages, cores and SMT
 * siblings, caches with their sizes and sharing, NUMA nodes with their CPUs and distances,
 * and the kinds of a hybrid processor. Every difference is listed, not only the first.
 */
class HwlocTopologyTest {
    @TempDir
    Path dir;

    static List<String> machines() {
        return RecordedMachines.NAMES;
    }

    @ParameterizedTest
    @MethodSource("machines")
    void shouldReadWhatHwlocReads(String name) {
        CpuTopology t = CpuTopology.load(RecordedMachines.unpack(name, dir));
        HwlocView h = HwlocView.parse(RecordedMachines.hwlocView(name));
        List<String> problems = new ArrayList<>();
        BitSet shown = h.pus();
        assertFalse(shown.isEmpty(), "hwloc shows PUs");
        assertFalse(h.objects("Package").isEmpty(), "hwloc shows packages");
        check(problems, "CPUs shown (online, allowed by the cgroup)", shown, t.allowed().toBitSet());
        check(problems, "CPUs hidden (offline or outside the cgroup)", h.hidden(), t.present().andNot(t.allowed()).toBitSet());
        packages(t, h, shown, problems);
        cores(name, t, h, shown, problems);
        caches(t, h, shown, problems);
        nodes(t, h, shown, problems);
        kinds(t, h, problems);
        assertEquals("", String.join("\n", problems), name);
    }

    private static void packages(CpuTopology t, HwlocView h, BitSet shown, List<String> problems) {
        for (HwlocView.Obj p : h.objects("Package")) {
            BitSet keel = cpus(t, shown, c -> c.socket() == p.os());
            check(problems, "package P#" + p.os() + " CPUs", p.pus(), keel);
        }
    }

    /**
     * The one disagreement kept: on AMD family 15h (Bulldozer) the kernel makes the two cores
     * of a module (compute unit) SMT siblings ({@code thread_siblings}), because they share
     * its front end, FPU, L1i and L2; hwloc makes a Core of each {@code core_id}. keel follows
     * the kernel: its "core" is the unit two loops should not share, and on this machine that
     * is the module, which hwloc shows as the L2 its two Cores share.
     */
    private static final String BULLDOZER = "64amd64-4s2n4ca2co";

    private static void cores(String name, CpuTopology t, HwlocView h, BitSet shown, List<String> problems) {
        for (HwlocView.Obj core : h.objects("Core")) {
            int first = core.pus().nextSetBit(0);
            Cpu c = t.cpu(first).orElseThrow();
            BitSet expected = name.equals(BULLDOZER) ? h.objects("Cache").stream()
                    .filter(o -> o.cacheLevel() == 2 && o.pus().get(first)).findFirst().orElseThrow().pus() : core.pus();
            check(problems, "core of CPU " + first + " (SMT siblings)", expected, and(c.siblings().toBitSet(), shown));
            if (c.coreId() != core.os()) {
                problems.add("CPU " + first + " core_id: hwloc P#" + core.os() + ", keel " + c.coreId());
            }
        }
    }

    private static void caches(CpuTopology t, HwlocView h, BitSet shown, List<String> problems) {
        for (HwlocView.Obj cache : h.objects("Cache")) {
            int first = cache.pus().nextSetBit(0);
            if (first < 0) {
                continue;
            }
            String what = "L" + cache.cacheLevel() + " " + cache.cacheType() + " cache of CPU " + first;
            Optional<Cache> k = t.cpu(first).orElseThrow().caches().stream()
                    .filter(c -> c.level() == cache.cacheLevel() && c.type().equals(cache.cacheType())).findFirst();
            if (k.isEmpty()) {
                problems.add(what + ": keel has none");
                continue;
            }
            check(problems, what + " sharing", cache.pus(), and(k.get().sharedCpus().toBitSet(), shown));
            String hwlocSize = cache.attrs().containsKey("sizeBytes") ? cache.attrs().get("sizeBytes") : cache.attrs().get("size");
            String keelSize = cache.attrs().containsKey("sizeBytes") ? Long.toString(k.get().sizeBytes())
                    : HwlocView.consoleSize(k.get().sizeBytes());
            if (!hwlocSize.equals(keelSize)) {
                problems.add(what + " size: hwloc " + hwlocSize + ", keel " + keelSize + " (" + k.get().size() + ")");
            }
        }
    }

    private static void nodes(CpuTopology t, HwlocView h, BitSet shown, List<String> problems) {
        for (HwlocView.Obj n : h.objects("NUMANode")) {
            Optional<NumaNode> k = t.node(n.os());
            if (k.isEmpty()) {
                problems.add("node " + n.os() + ": keel has none");
                continue;
            }
            check(problems, "node " + n.os() + " CPUs", n.pus(), and(k.get().cpus().toBitSet(), shown));
            for (Map.Entry<Integer, Integer> d : h.distances().getOrDefault(n.os(), Map.of()).entrySet()) {
                int keel = k.get().distanceTo(d.getKey());
                if (keel != d.getValue()) {
                    problems.add("distance node " + n.os() + " -> " + d.getKey() + ": hwloc " + d.getValue() + ", keel " + keel);
                }
            }
        }
        for (int cpu = shown.nextSetBit(0); cpu >= 0; cpu = shown.nextSetBit(cpu + 1)) {
            int keelNode = t.cpu(cpu).orElseThrow().node();
            int c = cpu;
            int hwlocNode = h.objects("NUMANode").stream().filter(n -> n.pus().get(c)).mapToInt(HwlocView.Obj::os)
                    .findFirst().orElse(-1);
            if (hwlocNode >= 0 && keelNode != hwlocNode) {
                problems.add("CPU " + cpu + " node: hwloc " + hwlocNode + ", keel " + keelNode);
            }
        }
    }

    private static void kinds(CpuTopology t, HwlocView h, List<String> problems) {
        boolean hwlocHybrid = h.kinds().size() > 1;
        if (hwlocHybrid != t.hybrid()) {
            problems.add("hybrid: hwloc " + h.kinds().size() + " CPU kinds, keel hybrid=" + t.hybrid());
            return;
        }
        if (hwlocHybrid) {
            int best = h.kinds().stream().mapToInt(HwlocView.Kind::efficiency).max().orElseThrow();
            for (HwlocView.Kind k : h.kinds()) {
                CoreKind expected = k.efficiency() == best ? CoreKind.PERFORMANCE : CoreKind.EFFICIENCY;
                BitSet keel = cpus(t, k.cpus(), c -> c.kind() == expected);
                check(problems, expected + " cores", k.cpus(), keel);
            }
        }
    }

    private static BitSet cpus(CpuTopology t, BitSet among, java.util.function.Predicate<Cpu> which) {
        BitSet b = new BitSet();
        for (Cpu c : t.cpus()) {
            if (among.get(c.id()) && which.test(c)) {
                b.set(c.id());
            }
        }
        return b;
    }

    private static BitSet and(BitSet a, BitSet b) {
        BitSet r = (BitSet) a.clone();
        r.and(b);
        return r;
    }

    private static void check(List<String> problems, String what, BitSet hwloc, BitSet keel) {
        if (!hwloc.equals(keel)) {
            problems.add(what + ": hwloc " + CpuSet.of(hwloc).toList() + ", keel " + CpuSet.of(keel).toList());
        }
    }
}
