package dev.keel.affinity;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads a {@link CpuTopology} from a {@link SysfsTree}. Every file is optional except the CPU
 * directory itself: kernels differ in what they expose (die_id since 5.2, core_cpus_list since
 * 5.3, nohz_full only with CONFIG_NO_HZ_FULL, no cpulist at all before 2.6.26), and an offline
 * CPU loses its topology directory. Sets are read from the hex masks first (see
 * {@link SysfsTree#readMaskOrList}); the recorded machines of hwloc's test suite
 * ({@code HwlocTopologyTest}) hold these rules to what hwloc reads.
 */
final class TopologyReader {
    private static final String CPU = "sys/devices/system/cpu/";
    private static final String NODE = "sys/devices/system/node/";

    private final SysfsTree tree;

    private TopologyReader(SysfsTree tree) {
        this.tree = tree;
    }

    static CpuTopology read(SysfsTree tree) {
        if (!Files.isDirectory(tree.path(CPU))) {
            throw new IllegalArgumentException("no CPU tree at " + tree.path(CPU) + " (is " + tree.root()
                    + " the root of a sysfs tree?)");
        }
        return new TopologyReader(tree).read();
    }

    private CpuTopology read() {
        CpuSet numbered = tree.numberedEntries(CPU, "cpu");
        CpuSet possible = tree.readList(CPU + "possible").orElse(numbered);
        CpuSet present = tree.readList(CPU + "present").orElse(numbered);
        CpuSet online = tree.readList(CPU + "online").orElseGet(() -> onlineByFlag(present));
        CpuSet isolated = tree.readList(CPU + "isolated").orElse(CpuSet.empty());
        // Kernels of some versions print "(null)" here when nohz_full= was not given.
        CpuSet nohzFull = tree.read(CPU + "nohz_full").filter(s -> !s.startsWith("("))
                .map(CpuSet::parseList).orElse(CpuSet.empty());
        CpuSet startup = startupAffinity().orElse(possible);
        CgroupCpus cgroup = CgroupReader.read(tree);
        CpuSet usable = cgroup.cpus().map(startup::and).orElse(startup).and(online);

        List<NumaNode> nodes = nodes(present);
        Map<Integer, Integer> nodeOf = new HashMap<>();
        nodes.forEach(n -> n.cpus().stream().forEach(c -> nodeOf.put(c, n.id())));
        Map<Integer, CoreKind> kinds = CoreKinds.read(tree, present);

        // Physical cores: CPUs with the same core_cpus_list share one; numbered by first CPU.
        Map<Integer, Optional<CpuSet>> siblingsOf = new HashMap<>();
        for (int id : present.toArray()) {
            String topo = CPU + "cpu" + id + "/topology/";
            siblingsOf.put(id, tree.readMaskOrList(topo + "core_cpus", topo + "core_cpus_list")
                    .or(() -> tree.readMaskOrList(topo + "thread_siblings", topo + "thread_siblings_list")));
        }
        Map<CpuSet, Integer> coreIndex = new HashMap<>();
        siblingsOf.values().stream().flatMap(Optional::stream).distinct()
                .sorted((a, b) -> Integer.compare(a.first(), b.first()))
                .forEach(s -> coreIndex.put(s, coreIndex.size()));

        List<Cpu> cpus = new ArrayList<>();
        for (int id : present.toArray()) {
            String dir = CPU + "cpu" + id + "/";
            String topo = dir + "topology/";
            Optional<CpuSet> siblings = siblingsOf.get(id);
            CoreKind kind = kinds.getOrDefault(id, CoreKind.UNIFORM);
            cpus.add(new Cpu(id, online.contains(id),
                    tree.readInt(topo + "physical_package_id").orElse(-1),
                    tree.readInt(topo + "die_id").orElse(-1),
                    tree.readInt(topo + "core_id").orElse(-1),
                    siblings.map(coreIndex::get).orElse(-1), siblings.orElse(CpuSet.empty()),
                    nodeOf.getOrDefault(id, linkedNode(dir)), caches(dir + "cache/"),
                    kind, tree.readInt(dir + "cpu_capacity"), isolated.contains(id), nohzFull.contains(id),
                    whyNotUsable(id, online, cgroup, startup, isolated)));
        }
        boolean hybrid = !kinds.isEmpty();
        return new CpuTopology(tree.root(), possible, present, online, isolated, nohzFull, startup, cgroup,
                usable, cpus, nodes, hybrid);
    }

    private static Optional<String> whyNotUsable(int id, CpuSet online, CgroupCpus cgroup, CpuSet startup,
                                                 CpuSet isolated) {
        if (!online.contains(id)) {
            return Optional.of("offline");
        }
        if (cgroup.cpus().isPresent() && !cgroup.cpus().get().contains(id)) {
            return Optional.of("outside cgroup cpuset " + cgroup.cpus().get().toList());
        }
        if (!startup.contains(id)) {
            // isolcpus= keeps isolated CPUs out of every task's default mask: they are used on purpose.
            return Optional.of("not in start-up affinity " + startup.toList()
                    + (isolated.contains(id) ? " (isolated: start with taskset -c to use it)" : ""));
        }
        return Optional.empty();
    }

    /** The node of the cpuN/nodeM link, which outlives the CPU's entry in the node's cpulist when it goes offline. */
    private int linkedNode(String cpuDir) {
        CpuSet linked = tree.numberedEntries(cpuDir, "node");
        return linked.isEmpty() ? -1 : linked.first();
    }

    /** Without an "online" list, each CPU's own online flag (CPU 0 often has none: it cannot go offline). */
    private CpuSet onlineByFlag(CpuSet present) {
        CpuSet on = CpuSet.empty();
        for (int id : present.toArray()) {
            if (tree.readInt(CPU + "cpu" + id + "/online").orElse(1) == 1) {
                on = on.with(id);
            }
        }
        return on;
    }

    private Optional<CpuSet> startupAffinity() {
        for (String line : tree.lines("proc/self/status")) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return Optional.of(CpuSet.parseList(line.substring(line.indexOf(':') + 1)));
            }
        }
        for (String line : tree.lines("proc/self/status")) {
            if (line.startsWith("Cpus_allowed:")) {
                return Optional.of(CpuSet.parseMask(line.substring(line.indexOf(':') + 1)));
            }
        }
        return Optional.empty();
    }

    private List<Cache> caches(String cacheDir) {
        List<Cache> caches = new ArrayList<>();
        for (int index : tree.numberedEntries(cacheDir, "index").toArray()) {
            String d = cacheDir + "index" + index + "/";
            OptionalInt level = tree.readInt(d + "level");
            if (level.isEmpty()) {
                continue;
            }
            caches.add(new Cache(level.getAsInt(), tree.read(d + "type").orElse("Unified"),
                    tree.read(d + "size").orElse(""),
                    tree.readMaskOrList(d + "shared_cpu_map", d + "shared_cpu_list").orElse(CpuSet.empty()),
                    tree.readInt(d + "id").orElse(-1)));
        }
        caches.sort((a, b) -> a.level() != b.level() ? Integer.compare(a.level(), b.level()) : a.type().compareTo(b.type()));
        return caches;
    }

    private List<NumaNode> nodes(CpuSet present) {
        if (!Files.isDirectory(tree.path(NODE))) {
            return List.of(new NumaNode(0, present, true, Map.of(0, 10)));
        }
        CpuSet ids = tree.readList(NODE + "online").orElseGet(() -> tree.numberedEntries(NODE, "node"));
        Optional<CpuSet> withMemory = tree.readList(NODE + "has_memory");
        int[] order = ids.toArray();
        List<NumaNode> nodes = new ArrayList<>();
        for (int id : order) {
            String d = NODE + "node" + id + "/";
            Map<Integer, Integer> distances = new HashMap<>();
            String[] values = tree.read(d + "distance").orElse("").split("\\s+");
            // "distance" lists one value per online node, in node order.
            for (int i = 0; i < values.length && i < order.length; i++) {
                if (!values[i].isEmpty()) {
                    distances.put(order[i], Integer.parseInt(values[i]));
                }
            }
            nodes.add(new NumaNode(id, tree.readMaskOrList(d + "cpumap", d + "cpulist").orElse(CpuSet.empty()),
                    withMemory.map(m -> m.contains(id)).orElse(true), distances));
        }
        return nodes;
    }
}
