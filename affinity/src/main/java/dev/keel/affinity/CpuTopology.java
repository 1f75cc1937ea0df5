package dev.keel.affinity;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The CPUs of a machine and the ones this process may use, read from sysfs and procfs, never
 * from /proc/cpuinfo (whose "core id"/"physical id" assume a uniform grid and say nothing of
 * caches, nodes, hybrid cores or cgroups).
 *
 * <p>What is read, below a root directory ("/" for this machine, a recorded tree in tests):
 * <ul>
 *   <li>{@code /sys/devices/system/cpu}: possible, present, online, isolated, nohz_full; per
 *       CPU its topology (package, die, core, SMT siblings), caches and cpu_capacity;</li>
 *   <li>{@code /sys/devices/system/node}: nodes, their CPUs, memory and distances;</li>
 *   <li>{@code /sys/devices/cpu_core}, {@code /sys/devices/cpu_atom}: hybrid core kinds;</li>
 *   <li>{@code /proc/self/status} (Cpus_allowed_list: the affinity this process started with,
 *       read from the main thread rather than the caller, which may already be pinned),
 *       {@code /proc/self/cgroup} and {@code /proc/self/mountinfo} for the cgroup limits.</li>
 * </ul>
 * The CPUs this process may use ({@link #usable()}) are its start-up affinity mask ∩ its cgroup
 * cpuset ∩ the online CPUs: inside a container limited to CPUs 2-3, CPUs 0-1 are reported with
 * the reason they are not usable rather than as free for the taking.
 */
public final class CpuTopology {
    private final Path root;
    private final CpuSet possible;
    private final CpuSet present;
    private final CpuSet online;
    private final CpuSet isolated;
    private final CpuSet nohzFull;
    private final CpuSet startupAffinity;
    private final CgroupCpus cgroup;
    private final CpuSet usable;
    private final Map<Integer, Cpu> cpus;
    private final List<NumaNode> nodes;
    private final boolean hybrid;

    CpuTopology(Path root, CpuSet possible, CpuSet present, CpuSet online, CpuSet isolated, CpuSet nohzFull,
                CpuSet startupAffinity, CgroupCpus cgroup, CpuSet usable, List<Cpu> cpus, List<NumaNode> nodes,
                boolean hybrid) {
        this.root = root;
        this.possible = possible;
        this.present = present;
        this.online = online;
        this.isolated = isolated;
        this.nohzFull = nohzFull;
        this.startupAffinity = startupAffinity;
        this.cgroup = cgroup;
        this.usable = usable;
        Map<Integer, Cpu> byId = new TreeMap<>();
        cpus.forEach(c -> byId.put(c.id(), c));
        this.cpus = byId;
        this.nodes = List.copyOf(nodes);
        this.hybrid = hybrid;
    }

    /** This machine, as this process sees it now. */
    public static CpuTopology system() {
        return load(Path.of("/"));
    }

    /**
     * The machine whose sysfs and procfs are below {@code root}.
     *
     * @throws IllegalArgumentException when {@code root} does not exist or holds no
     *                                  {@code sys/devices/system/cpu}
     */
    public static CpuTopology load(Path root) {
        return TopologyReader.read(SysfsTree.at(root));
    }

    /** The directory this topology was read below. */
    public Path root() {
        return root;
    }

    /** The present CPUs, ascending, online or not. */
    public List<Cpu> cpus() {
        return List.copyOf(cpus.values());
    }

    /**
     * The CPU numbered {@code id}, if it is possible on this machine. A map look-up; allocates the
     * {@link Optional}.
     */
    public Optional<Cpu> cpu(int id) {
        return Optional.ofNullable(cpus.get(id));
    }

    /** CPUs the kernel could ever bring up (sysfs {@code possible}; nr_cpu_ids is its last + 1). */
    public CpuSet possible() {
        return possible;
    }

    /** CPUs physically present (sysfs {@code present}), online or not. */
    public CpuSet present() {
        return present;
    }

    /** CPUs the kernel runs now (sysfs {@code online}). */
    public CpuSet online() {
        return online;
    }

    /** Present CPUs that are not online. */
    public CpuSet offline() {
        return present.andNot(online);
    }

    /** CPUs isolated from the scheduler's load balancing (isolcpus=). */
    public CpuSet isolated() {
        return isolated;
    }

    /** CPUs whose tick stops when they run one task (nohz_full=). */
    public CpuSet nohzFull() {
        return nohzFull;
    }

    /** The affinity mask this process started with (Cpus_allowed_list of its main thread). */
    public CpuSet startupAffinity() {
        return startupAffinity;
    }

    /** The CPU limits of this process's cgroup (cpuset and quota), as read when the topology was. */
    public CgroupCpus cgroup() {
        return cgroup;
    }

    /** The CPUs this process may use: start-up affinity ∩ cgroup cpuset ∩ online. */
    public CpuSet usable() {
        return usable;
    }

    /**
     * The CPUs the kernel lets this process pin a thread to: online and inside the cgroup
     * cpuset. Wider than {@link #usable()} when the process started with a narrower mask.
     */
    public CpuSet allowed() {
        return cgroup.cpus().map(online::and).orElse(online);
    }

    /** The NUMA nodes, by id; one node 0 holding every CPU on a kernel without NUMA. */
    public List<NumaNode> nodes() {
        return nodes;
    }

    /**
     * The NUMA node numbered {@code id}, if the machine has it. Scans the few nodes; allocates the
     * {@link Optional}.
     */
    public Optional<NumaNode> node(int id) {
        return nodes.stream().filter(n -> n.id() == id).findFirst();
    }

    /** Whether the processor has cores of more than one kind (performance and efficiency). */
    public boolean hybrid() {
        return hybrid;
    }

    /** Each physical core's CPUs (its SMT siblings), in order of their first CPU. */
    public List<CpuSet> physicalCores() {
        Set<CpuSet> cores = new LinkedHashSet<>();
        cpus.values().stream().filter(c -> c.core() >= 0).sorted((a, b) -> Integer.compare(a.core(), b.core()))
                .forEach(c -> cores.add(c.siblings()));
        return new ArrayList<>(cores);
    }

    /**
     * Why this process may not use {@code cpu}, or empty when it may: it does not exist, is
     * offline, is outside the cgroup cpuset, or was not in the start-up affinity mask.
     */
    public Optional<String> whyNotUsable(int cpu) {
        Cpu c = cpus.get(cpu);
        return c == null ? Optional.of(missing(cpu)) : c.whyNotUsable();
    }

    /**
     * Why the kernel would refuse to run a thread of this process on {@code cpu}, or empty:
     * it does not exist, is offline, or is outside the cgroup cpuset.
     */
    public Optional<String> whyNotAllowed(int cpu) {
        if (!cpus.containsKey(cpu)) {
            return Optional.of(missing(cpu));
        }
        if (!online.contains(cpu)) {
            return Optional.of("CPU " + cpu + " is offline");
        }
        if (cgroup.cpus().isPresent() && !cgroup.cpus().get().contains(cpu)) {
            return Optional.of("CPU " + cpu + " is outside the cgroup cpuset " + cgroup.cpus().get().toList()
                    + " (" + cgroup.cpusFile().orElse("cgroup " + cgroup.version()) + ")");
        }
        return Optional.empty();
    }

    private String missing(int cpu) {
        return "CPU " + cpu + " does not exist (this machine has CPUs " + present.toList() + ")";
    }
}
