package dev.keel.numa;

import dev.keel.ffm.Mempolicy;
import dev.keel.ffm.NodeMask;
import dev.keel.ffm.SyscallException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The NUMA nodes of the machine as {@code /sys/devices/system/node} describes them: possible
 * and online nodes, each node's CPUs and memory, memoryless nodes, the distance matrix, and
 * the nodes this process may allocate on: the kernel's mems-allowed set
 * (get_mempolicy(MPOL_F_MEMS_ALLOWED)) intersected with the cpuset cgroup's effective mems.
 *
 * <p>Every file is read under a root directory so that recorded trees of other machines can be
 * read in tests; {@link #system()} reads {@code /} and asks the kernel for the mems-allowed set,
 * {@link #read(Path)} takes it from the tree's {@code proc/self/status}. When the NUMA system
 * calls are blocked (EPERM from a seccomp filter) the topology is still read, and
 * {@link #syscallProblem()} says why the policy part is missing.
 */
public final class NumaTopology {
    private static final Pattern NODE_DIR = Pattern.compile("node(\\d+)");
    private static final Pattern MEMINFO = Pattern.compile("Node\\s+\\d+\\s+(\\w+):\\s+(\\d+)(\\s+kB)?");

    private final Path root;
    private final IdSet possible;
    private final IdSet online;
    private final Map<Integer, NumaNode> nodes;
    private final Map<Integer, int[]> distances;
    private final IdSet kernelMemsAllowed;
    private final String kernelMemsSource;
    private final Optional<CpusetMems> cpuset;
    private final IdSet allowed;
    private final Optional<String> syscallProblem;

    private NumaTopology(Path root, IdSet possible, IdSet online, Map<Integer, NumaNode> nodes,
                         Map<Integer, int[]> distances, IdSet kernelMemsAllowed, String kernelMemsSource,
                         Optional<CpusetMems> cpuset, Optional<String> syscallProblem) {
        this.root = root;
        this.possible = possible;
        this.online = online;
        this.nodes = Collections.unmodifiableMap(nodes);
        this.distances = distances;
        this.kernelMemsAllowed = kernelMemsAllowed;
        this.kernelMemsSource = kernelMemsSource;
        this.cpuset = cpuset;
        this.allowed = cpuset.map(c -> kernelMemsAllowed.intersect(c.mems())).orElse(kernelMemsAllowed);
        this.syscallProblem = syscallProblem;
    }

    /** This machine, with the mems-allowed set from the kernel. */
    public static NumaTopology system() {
        return read(Path.of("/"), true);
    }

    /** A recorded tree under {@code root}, with the mems-allowed set from its proc/self/status. */
    public static NumaTopology read(Path root) {
        return read(root, false);
    }

    private static NumaTopology read(Path root, boolean askKernel) {
        Path dir = SysFiles.under(root, "/sys/devices/system/node");
        Map<Integer, NumaNode> nodes = new TreeMap<>();
        Map<Integer, int[]> distances = new TreeMap<>();
        List<Integer> dirs = nodeDirs(dir);
        IdSet online;
        IdSet possible;
        if (dirs.isEmpty()) {
            // A kernel without NUMA: one node 0 with every CPU and all memory, no distances.
            IdSet cpus = SysFiles.idSet(SysFiles.under(root, "/sys/devices/system/cpu/online")).orElse(IdSet.of(0));
            Map<String, Long> mem = meminfo(SysFiles.under(root, "/proc/meminfo"), Pattern.compile("(\\w+):\\s+(\\d+)(\\s+kB)?"));
            nodes.put(0, new NumaNode(0, cpus, mem.getOrDefault("MemTotal", 0L), mem.getOrDefault("MemFree", 0L), true));
            online = IdSet.of(0);
            possible = online;
        } else {
            online = SysFiles.idSet(dir.resolve("online")).orElse(IdSet.of(dirs.stream().mapToInt(i -> i).toArray()));
            possible = SysFiles.idSet(dir.resolve("possible")).orElse(online);
            Optional<IdSet> hasMemory = SysFiles.idSet(dir.resolve("has_memory"));
            for (int id : online.toArray()) {
                Path n = dir.resolve("node" + id);
                Map<String, Long> mem = meminfo(n.resolve("meminfo"), MEMINFO);
                long total = mem.getOrDefault("MemTotal", 0L);
                IdSet cpus = SysFiles.maskOrList(n.resolve("cpumap"), n.resolve("cpulist")).orElse(IdSet.empty());
                nodes.put(id, new NumaNode(id, cpus, total, mem.getOrDefault("MemFree", 0L),
                        hasMemory.map(h -> h.contains(id)).orElse(total > 0)));
                SysFiles.read(n.resolve("distance")).filter(s -> !s.isEmpty())
                        .ifPresent(s -> distances.put(id, parseDistances(s, n)));
            }
        }
        IdSet withMemory = IdSet.of(nodes.values().stream().filter(NumaNode::hasMemory).mapToInt(NumaNode::id).toArray());
        Optional<String> problem = Optional.empty();
        IdSet memsAllowed = null;
        String source = null;
        if (askKernel) {
            try {
                memsAllowed = readKernelMems();
                source = "get_mempolicy(MPOL_F_MEMS_ALLOWED)";
            } catch (SyscallException e) {
                problem = Optional.of(NumaException.from(e, "read the process's memory policy").getMessage());
            }
        }
        if (memsAllowed == null) {
            Path status = SysFiles.under(root, "/proc/self/status");
            Optional<String> list = SysFiles.statusField(status, "Mems_allowed_list");
            memsAllowed = list.map(IdSet::parse).orElse(withMemory);
            source = list.isPresent() ? "/proc/self/status Mems_allowed_list" : "nodes with memory";
        }
        return new NumaTopology(root, possible, online, nodes, distances, memsAllowed, source,
                CpusetMems.read(root), problem);
    }

    private static IdSet readKernelMems() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = NodeMask.allocate(arena);
            Mempolicy.memsAllowed(mask);
            return IdSet.of(NodeMask.nodes(mask));
        }
    }

    private static List<Integer> nodeDirs(Path dir) {
        List<Integer> ids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "node*")) {
            for (Path p : entries) {
                Matcher m = NODE_DIR.matcher(p.getFileName().toString());
                if (m.matches()) {
                    ids.add(Integer.parseInt(m.group(1)));
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        Collections.sort(ids);
        return ids;
    }

    private static Map<String, Long> meminfo(Path file, Pattern line) {
        Map<String, Long> values = new TreeMap<>();
        for (String l : SysFiles.lines(file)) {
            Matcher m = line.matcher(l.strip());
            if (m.matches()) {
                long v = Long.parseLong(m.group(2));
                values.put(m.group(1), m.group(3) != null ? v * 1024 : v);
            }
        }
        return values;
    }

    private static int[] parseDistances(String text, Path node) {
        try {
            return java.util.Arrays.stream(text.split("\\s+")).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad distance list '" + text + "' in " + node, e);
        }
    }

    /** The directory everything was read under ({@code /} for {@link #system()}). */
    public Path root() {
        return root;
    }

    /** Nodes the kernel could ever bring online ({@code possible}); masks are sized from it. */
    public IdSet possibleNodes() {
        return possible;
    }

    /** Nodes online now. */
    public IdSet onlineNodes() {
        return online;
    }

    /** The online nodes in ascending order. */
    public List<NumaNode> nodes() {
        return List.copyOf(nodes.values());
    }

    /** Online node {@code id}, if there is one. */
    public Optional<NumaNode> node(int id) {
        return Optional.ofNullable(nodes.get(id));
    }

    /** Online nodes without memory of their own. */
    public IdSet memorylessNodes() {
        return IdSet.of(nodes.values().stream().filter(NumaNode::memoryless).mapToInt(NumaNode::id).toArray());
    }

    /** The node whose cpulist holds {@code cpu}. */
    public OptionalInt nodeOfCpu(int cpu) {
        return nodes.values().stream().filter(n -> n.cpus().contains(cpu)).mapToInt(NumaNode::id).findFirst();
    }

    /**
     * The distance from node {@code from} to node {@code to} (10 is local in the ACPI SLIT
     * convention the kernel reports), or -1 when the kernel reports none.
     */
    public int distance(int from, int to) {
        int[] row = distances.get(from);
        if (row == null || !online.contains(to)) {
            return -1;
        }
        int index = (int) online.stream().takeWhile(n -> n < to).count();
        return index < row.length ? row[index] : -1;
    }

    /** Whether the kernel reported distances at all. */
    public boolean hasDistances() {
        return !distances.isEmpty();
    }

    /** The kernel's mems-allowed set (see {@link #kernelMemsSource()}). */
    public IdSet kernelMemsAllowed() {
        return kernelMemsAllowed;
    }

    /** Where {@link #kernelMemsAllowed()} came from. */
    public String kernelMemsSource() {
        return kernelMemsSource;
    }

    /** The cpuset cgroup's effective mems and the file they came from, when there is one. */
    public Optional<IdSet> cpusetMems() {
        return cpuset.map(CpusetMems::mems);
    }

    /** The file {@link #cpusetMems()} was read from. */
    public Optional<Path> cpusetSource() {
        return cpuset.map(CpusetMems::source);
    }

    /** Nodes this process may allocate on: kernel mems-allowed ∩ cpuset effective mems. */
    public IdSet allowedNodes() {
        return allowed;
    }

    /** Why the NUMA system calls could not be used while reading, e.g. a seccomp filter. */
    public Optional<String> syscallProblem() {
        return syscallProblem;
    }

    /**
     * Refuses, with the reason, a node memory cannot be placed on.
     *
     * @throws NumaException NO_SUCH_NODE, MEMORYLESS_NODE or NODE_NOT_ALLOWED
     */
    public void checkAllocatable(int node) {
        NumaNode n = nodes.get(node);
        if (n == null) {
            throw new NumaException(NumaException.Reason.NO_SUCH_NODE,
                    "node " + node + " does not exist (online nodes: " + online + ")");
        }
        if (n.memoryless()) {
            throw new NumaException(NumaException.Reason.MEMORYLESS_NODE,
                    "node " + node + " has no memory of its own (memoryless; nodes with memory: "
                            + online.minus(memorylessNodes()) + ")");
        }
        if (!allowed.contains(node)) {
            StringBuilder why = new StringBuilder("node " + node + " is not allowed to this process (allowed nodes: "
                    + allowed + "; mems allowed " + kernelMemsAllowed + " from " + kernelMemsSource);
            cpuset.ifPresent(c -> why.append("; cpuset mems ").append(c.mems()).append(" from ").append(c.source()));
            throw new NumaException(NumaException.Reason.NODE_NOT_ALLOWED, why.append(')').toString());
        }
    }
}
