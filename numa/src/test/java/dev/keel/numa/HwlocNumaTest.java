package dev.keel.numa;

import dev.keel.affinity.testing.HwlocView;
import dev.keel.affinity.testing.RecordedMachines;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link NumaTopology} on the machines the hwloc project recorded, held to hwloc's view of
 * each: the nodes this process may allocate on (online nodes within the cgroup's mems), each
 * node's memory and CPUs, and the distance matrix. Every difference is listed.
 */
class HwlocNumaTest {
    @TempDir
    Path dir;

    static List<String> machines() {
        return RecordedMachines.NAMES;
    }

    @ParameterizedTest
    @MethodSource("machines")
    void shouldReadTheNodesHwlocReads(String name) {
        NumaTopology t = NumaTopology.read(RecordedMachines.unpack(name, dir));
        HwlocView h = HwlocView.parse(RecordedMachines.hwlocView(name));
        List<HwlocView.Obj> nodes = h.objects("NUMANode");
        assertFalse(nodes.isEmpty(), "hwloc shows NUMA nodes");
        List<String> problems = new ArrayList<>();
        IdSet hwlocNodes = IdSet.of(nodes.stream().mapToInt(HwlocView.Obj::os).toArray());
        if (!hwlocNodes.equals(t.allowedNodes())) {
            problems.add("nodes allowed: hwloc " + hwlocNodes + ", keel " + t.allowedNodes());
        }
        BitSet shown = h.pus();
        for (HwlocView.Obj n : nodes) {
            Optional<NumaNode> k = t.node(n.os());
            if (k.isEmpty()) {
                problems.add("node " + n.os() + ": keel has none");
                continue;
            }
            memory(n, k.get(), problems);
            BitSet keelCpus = new BitSet();
            k.get().cpus().stream().filter(shown::get).forEach(keelCpus::set);
            if (!keelCpus.equals(n.pus())) {
                problems.add("node " + n.os() + " CPUs: hwloc " + n.pus() + ", keel " + keelCpus);
            }
            for (Map.Entry<Integer, Integer> d : h.distances().getOrDefault(n.os(), Map.of()).entrySet()) {
                if (t.distance(n.os(), d.getKey()) != d.getValue()) {
                    problems.add("distance " + n.os() + " -> " + d.getKey() + ": hwloc " + d.getValue()
                            + ", keel " + t.distance(n.os(), d.getKey()));
                }
            }
        }
        assertEquals("", String.join("\n", problems), name);
    }

    /** The XML gives bytes; the console a rounded size, to which keel's bytes are rounded the same way. */
    private static void memory(HwlocView.Obj n, NumaNode k, List<String> problems) {
        String hwloc = n.attrs().containsKey("localBytes") ? n.attrs().get("localBytes") : n.attrs().get("local");
        String keel = n.attrs().containsKey("localBytes") ? Long.toString(k.memTotal()) : HwlocView.consoleSize(k.memTotal());
        if (!hwloc.equals(keel)) {
            problems.add("node " + n.os() + " memory: hwloc " + hwloc + ", keel " + keel + " (" + k.memTotal() + " bytes)");
        }
    }
}
