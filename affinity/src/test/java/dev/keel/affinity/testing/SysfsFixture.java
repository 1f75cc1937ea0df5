package dev.keel.affinity.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntUnaryOperator;
import java.util.stream.Collectors;
import dev.keel.affinity.CoreKind;
import dev.keel.affinity.CpuSet;

/**
 * Writes a sysfs and procfs tree of a made-up machine, file for file in the shape the kernel
 * gives (same names, same cpulist and mask formats, topology and cache directories absent
 * for offline CPUs, nodeN links, distance rows in node order), so tests read big and odd
 * machines through exactly the code that reads this one.
 */
final class SysfsFixture {
    /** One hardware thread of the made-up machine. */
    record Thread(int cpu, int socket, int coreId, int node, int l2Group, int l3Group, CoreKind kind, int capacity) {
    }

    /** A NIC: its PCI address, node and MSI-X interrupts with their affinity. */
    record Nic(String name, String pci, int node, Map<Integer, String> irqAffinity) {
    }

    private final List<Thread> threads;
    private CpuSet offline = CpuSet.empty();
    private CpuSet isolated = CpuSet.empty();
    private CpuSet nohzFull = CpuSet.empty();
    private CpuSet affinity;
    private Set<Integer> memoryless = Set.of();
    private IntUnaryOperator nodeId = IntUnaryOperator.identity();
    private final List<String> mountinfo = new ArrayList<>();
    private final List<String> cgroupLines = new ArrayList<>();
    private final Map<String, String> extraFiles = new LinkedHashMap<>();
    private final List<Nic> nics = new ArrayList<>();
    private long irqbalancePid = -1;

    private SysfsFixture(List<Thread> threads) {
        this.threads = threads;
    }

    /**
     * {@code sockets} x {@code cores} x {@code smt} threads. Numbered as x86 firmware does:
     * every core's first thread, socket by socket, then every core's second thread
     * ({@code siblingsAdjacent} numbers a core's threads next to each other instead).
     * One node per socket split in {@code nodesPerSocket}; L2 per core; L3 per
     * {@code coresPerL3} cores.
     */
    static SysfsFixture grid(int sockets, int cores, int smt, boolean siblingsAdjacent, int nodesPerSocket,
                             int coresPerL3) {
        List<Thread> list = new ArrayList<>();
        for (int t = 0; t < smt; t++) {
            for (int s = 0; s < sockets; s++) {
                for (int c = 0; c < cores; c++) {
                    int cpu = siblingsAdjacent ? (s * cores + c) * smt + t : t * sockets * cores + s * cores + c;
                    int core = s * cores + c;
                    int node = s * nodesPerSocket + c / (cores / nodesPerSocket);
                    list.add(new Thread(cpu, s, c, node, core, core / coresPerL3, CoreKind.UNIFORM, -1));
                }
            }
        }
        list.sort((a, b) -> Integer.compare(a.cpu, b.cpu));
        return new SysfsFixture(list);
    }

    /** An Intel hybrid part: {@code pCores} with two threads each, then {@code eCores} in clusters of 4 sharing an L2. */
    static SysfsFixture hybrid(int pCores, int eCores) {
        List<Thread> list = new ArrayList<>();
        for (int c = 0; c < pCores; c++) {
            for (int t = 0; t < 2; t++) {
                list.add(new Thread(c * 2 + t, 0, c * 4, 0, c, 0, CoreKind.PERFORMANCE, 1024));
            }
        }
        for (int e = 0; e < eCores; e++) {
            list.add(new Thread(pCores * 2 + e, 0, pCores * 4 + e, 0, pCores + e / 4, 0, CoreKind.EFFICIENCY, 623));
        }
        return new SysfsFixture(list);
    }

    SysfsFixture offline(CpuSet cpus) {
        offline = cpus;
        return this;
    }

    /** isolcpus=: also taken out of the default affinity, as the kernel does. */
    SysfsFixture isolated(CpuSet cpus) {
        isolated = cpus;
        return this;
    }

    SysfsFixture nohzFull(CpuSet cpus) {
        nohzFull = cpus;
        return this;
    }

    /** The start-up affinity of the process (Cpus_allowed_list); default: online minus isolated. */
    SysfsFixture affinity(CpuSet cpus) {
        affinity = cpus;
        return this;
    }

    SysfsFixture memoryless(Integer... nodes) {
        memoryless = Set.of(nodes);
        return this;
    }

    /** Renames node n to {@code ids[n]} (machines number nodes with gaps). */
    SysfsFixture nodeIds(int... ids) {
        nodeId = n -> ids[n];
        return this;
    }

    /**
     * A cgroup v2 host mount with the process in {@code path}; {@code namespaced} shows it as a
     * container does (cgroup namespace: "0::/" and the mount rooted at the container's cgroup).
     */
    SysfsFixture cgroupV2(String path, String cpusetEffective, String cpuMax, boolean namespaced) {
        String root = namespaced ? path : "/";
        mountinfo.add("30 23 0:26 " + root + " /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate");
        cgroupLines.add("0::" + (namespaced ? "/" : path));
        String dir = "sys/fs/cgroup" + (namespaced ? "" : path);
        extraFiles.put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
        extraFiles.put(dir + "/cpuset.cpus.effective", cpusetEffective);
        extraFiles.put(dir + "/cpu.max", cpuMax);
        return this;
    }

    /** cgroup v1 controllers (with an empty cgroup2 at /sys/fs/cgroup/unified, as hybrid hosts have). */
    SysfsFixture cgroupV1(String path, String effectiveCpus, long quota, long period) {
        mountinfo.add("31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755");
        mountinfo.add("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct");
        mountinfo.add("34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset");
        mountinfo.add("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw");
        cgroupLines.add("4:cpu,cpuacct:" + path);
        cgroupLines.add("3:cpuset:" + path);
        cgroupLines.add("0::/");
        extraFiles.put("sys/fs/cgroup/unified/cgroup.controllers", "");
        extraFiles.put("sys/fs/cgroup/cpuset/cpuset.effective_cpus", online().toList());
        extraFiles.put("sys/fs/cgroup/cpuset" + path + "/cpuset.effective_cpus", effectiveCpus);
        extraFiles.put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1");
        extraFiles.put("sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000");
        extraFiles.put("sys/fs/cgroup/cpu,cpuacct" + path + "/cpu.cfs_quota_us", Long.toString(quota));
        extraFiles.put("sys/fs/cgroup/cpu,cpuacct" + path + "/cpu.cfs_period_us", Long.toString(period));
        return this;
    }

    SysfsFixture nic(String name, String pci, int node, Map<Integer, String> irqAffinity) {
        nics.add(new Nic(name, pci, node, irqAffinity));
        return this;
    }

    /** A running irqbalance: /proc/PID/comm says so. */
    SysfsFixture irqbalance(long pid) {
        irqbalancePid = pid;
        return this;
    }

    private CpuSet all() {
        return CpuSet.of(threads.stream().mapToInt(Thread::cpu).toArray());
    }

    private CpuSet online() {
        return all().andNot(offline);
    }

    private CpuSet where(java.util.function.Predicate<Thread> p) {
        return CpuSet.of(threads.stream().filter(p).mapToInt(Thread::cpu).toArray()).and(online());
    }

    /** The online CPUs sharing {@code t}'s value of {@code key}, computed once per value. */
    private CpuSet group(Map<Object, CpuSet> cache, Thread t, java.util.function.Function<Thread, Object> key) {
        return cache.computeIfAbsent(key.apply(t), k -> where(o -> key.apply(o).equals(k)));
    }

    /** Writes the tree under {@code root} and returns it. */
    Path writeTo(Path root) {
        CpuSet all = all();
        CpuSet online = online();
        int nbits = all.last() + 1;
        String cpu = "sys/devices/system/cpu/";
        write(root, cpu + "possible", all.toList());
        write(root, cpu + "present", all.toList());
        write(root, cpu + "online", online.toList());
        write(root, cpu + "offline", offline.toList());
        write(root, cpu + "isolated", isolated.toList());
        write(root, cpu + "nohz_full", nohzFull.isEmpty() ? "(null)" : nohzFull.toList());
        write(root, cpu + "kernel_max", Integer.toString(Math.max(nbits, 8192) - 1));
        Map<Object, CpuSet> cores = new java.util.HashMap<>();
        Map<Object, CpuSet> packages = new java.util.HashMap<>();
        Map<Object, CpuSet> l2s = new java.util.HashMap<>();
        Map<Object, CpuSet> l3s = new java.util.HashMap<>();
        for (Thread t : threads) {
            String dir = cpu + "cpu" + t.cpu + "/";
            if (t.cpu != 0 || offline.contains(0)) {
                write(root, dir + "online", offline.contains(t.cpu) ? "0" : "1");
            }
            link(root, dir + "node" + nodeId.applyAsInt(t.node), "../../node/node" + nodeId.applyAsInt(t.node));
            if (offline.contains(t.cpu)) {
                continue;   // the kernel removes topology and cache directories of an offline CPU
            }
            if (t.capacity > 0) {
                write(root, dir + "cpu_capacity", Integer.toString(t.capacity));
            }
            CpuSet core = group(cores, t, o -> List.of(o.socket, o.l2Group, o.coreId));
            CpuSet pkg = group(packages, t, o -> o.socket);
            String topo = dir + "topology/";
            write(root, topo + "physical_package_id", Integer.toString(t.socket));
            write(root, topo + "die_id", "0");
            write(root, topo + "core_id", Integer.toString(t.coreId));
            write(root, topo + "cluster_id", Integer.toString(t.l2Group));
            for (String name : List.of("core_cpus", "thread_siblings")) {
                write(root, topo + name + "_list", core.toList());
                write(root, topo + name, core.toMask(nbits));
            }
            for (String name : List.of("package_cpus", "core_siblings", "die_cpus")) {
                write(root, topo + name + "_list", pkg.toList());
                write(root, topo + name, pkg.toMask(nbits));
            }
            CpuSet l2 = group(l2s, t, o -> List.of(o.socket, o.l2Group));
            CpuSet l3 = group(l3s, t, o -> List.of(o.socket, o.l3Group));
            cache(root, dir, 0, 1, "Data", "48K", core, t.l2Group, nbits);
            cache(root, dir, 1, 1, "Instruction", "32K", core, t.l2Group, nbits);
            cache(root, dir, 2, 2, "Unified", t.kind == CoreKind.EFFICIENCY ? "4096K" : "2048K", l2, t.l2Group, nbits);
            cache(root, dir, 3, 3, "Unified", "32768K", l3, t.l3Group, nbits);
        }
        writeKinds(root);
        writeNodes(root, nbits);
        writeProc(root, online, nbits);
        extraFiles.forEach((name, text) -> write(root, name, text));
        nics.forEach(n -> writeNic(root, n));
        if (!nics.isEmpty()) {
            writeInterrupts(root, online);
        }
        if (irqbalancePid > 0) {
            write(root, "proc/" + irqbalancePid + "/comm", "irqbalance");
        }
        write(root, "proc/1/comm", "systemd");
        return root;
    }

    private void cache(Path root, String dir, int index, int level, String type, String size, CpuSet shared, int id,
                       int nbits) {
        String d = dir + "cache/index" + index + "/";
        write(root, d + "level", Integer.toString(level));
        write(root, d + "type", type);
        write(root, d + "size", size);
        write(root, d + "id", Integer.toString(id));
        write(root, d + "coherency_line_size", "64");
        write(root, d + "shared_cpu_list", shared.toList());
        write(root, d + "shared_cpu_map", shared.toMask(nbits));
    }

    private void writeKinds(Path root) {
        for (CoreKind k : List.of(CoreKind.PERFORMANCE, CoreKind.EFFICIENCY)) {
            CpuSet cpus = CpuSet.of(threads.stream().filter(t -> t.kind == k).mapToInt(Thread::cpu).toArray());
            if (!cpus.isEmpty()) {
                write(root, "sys/devices/" + k.pmu() + "/cpus", cpus.toList());
            }
        }
    }

    private void writeNodes(Path root, int nbits) {
        TreeSet<Integer> nodes = threads.stream().map(t -> nodeId.applyAsInt(t.node)).collect(Collectors.toCollection(TreeSet::new));
        String node = "sys/devices/system/node/";
        String list = CpuSet.of(nodes.stream().mapToInt(Integer::intValue).toArray()).toList();
        write(root, node + "online", list);
        write(root, node + "possible", list);
        CpuSet withMemory = CpuSet.of(nodes.stream().filter(n -> !memoryless.contains(n)).mapToInt(Integer::intValue).toArray());
        write(root, node + "has_memory", withMemory.toList());
        write(root, node + "has_normal_memory", withMemory.toList());
        write(root, node + "has_cpu", list);
        for (int n : nodes) {
            CpuSet cpus = where(t -> nodeId.applyAsInt(t.node) == n);
            write(root, node + "node" + n + "/cpulist", cpus.toList());
            write(root, node + "node" + n + "/cpumap", cpus.toMask(nbits));
            int socket = threads.stream().filter(t -> nodeId.applyAsInt(t.node) == n).findFirst().orElseThrow().socket;
            write(root, node + "node" + n + "/distance", nodes.stream().map(other -> {
                int otherSocket = threads.stream().filter(t -> nodeId.applyAsInt(t.node) == other).findFirst().orElseThrow().socket;
                return other == n ? "10" : otherSocket == socket ? "12" : "21";
            }).collect(Collectors.joining(" ")));
        }
    }

    private void writeProc(Path root, CpuSet online, int nbits) {
        CpuSet mask = affinity != null ? affinity : online.andNot(isolated);
        write(root, "proc/self/status", "Name:\tjava\nState:\tR (running)\nTgid:\t4242\nPid:\t4242\n"
                + "Cpus_allowed:\t" + mask.toMask(nbits) + "\nCpus_allowed_list:\t" + mask.toList()
                + "\nMems_allowed_list:\t0\n");
        if (!cgroupLines.isEmpty()) {
            write(root, "proc/self/cgroup", String.join("\n", cgroupLines));
            write(root, "proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                    + "23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
                    + String.join("\n", mountinfo));
        }
    }

    private void writeNic(Path root, Nic nic) {
        String dev = "sys/devices/pci0000:00/" + nic.pci + "/";
        write(root, dev + "numa_node", Integer.toString(nic.node));
        write(root, dev + "local_cpulist", nic.node < 0 ? online().toList()
                : where(t -> nodeId.applyAsInt(t.node) == nic.node).toList());
        write(root, "sys/class/net/" + nic.name + "/ifindex", "2");
        link(root, "sys/class/net/" + nic.name + "/device", "../../../devices/pci0000:00/" + nic.pci);
        int queue = 0;
        for (Map.Entry<Integer, String> irq : nic.irqAffinity.entrySet()) {
            write(root, dev + "msi_irqs/" + irq.getKey(), "msix");
            String p = "proc/irq/" + irq.getKey() + "/";
            write(root, p + "smp_affinity_list", irq.getValue());
            write(root, p + "effective_affinity_list", Integer.toString(CpuSet.parseList(irq.getValue()).first()));
            write(root, p + "node", Integer.toString(nic.node));
            mkdir(root, p + nic.name + "-TxRx-" + queue++);
        }
    }

    /**
     * /proc/interrupts as the kernel prints it: a column per online CPU, the timer, then each
     * NIC vector taken (so far) by the first CPU of its affinity, its chip naming the PCI function.
     */
    private void writeInterrupts(Path root, CpuSet online) {
        StringBuilder sb = new StringBuilder("     ");
        online.stream().forEach(c -> sb.append(String.format("%11s", "CPU" + c)));
        sb.append('\n').append(String.format("%4s:", "0"));
        online.stream().forEach(c -> sb.append(String.format("%11d", c == online.first() ? 42 : 0)));
        sb.append("   IO-APIC    2-edge      timer\n");
        for (Nic nic : nics) {
            int queue = 0;
            for (Map.Entry<Integer, String> irq : nic.irqAffinity.entrySet()) {
                int first = CpuSet.parseList(irq.getValue()).first();
                sb.append(String.format("%4d:", irq.getKey()));
                online.stream().forEach(c -> sb.append(String.format("%11d", c == first ? 1000 + irq.getKey() : 0)));
                sb.append("  IR-PCI-MSI-").append(nic.pci).append(' ').append(524288 + queue).append("-edge      ")
                        .append(nic.name).append("-TxRx-").append(queue++).append('\n');
            }
        }
        sb.append("NMI:");
        online.stream().forEach(c -> sb.append(String.format("%11d", 0)));
        sb.append("   Non-maskable interrupts");
        write(root, "proc/interrupts", sb.toString());
    }

    private static void write(Path root, String relative, String text) {
        try {
            Path p = root.resolve(relative);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void mkdir(Path root, String relative) {
        try {
            Files.createDirectories(root.resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void link(Path root, String relative, String target) {
        try {
            Path p = root.resolve(relative);
            Files.createDirectories(p.getParent());
            Files.createSymbolicLink(p, Path.of(target));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
