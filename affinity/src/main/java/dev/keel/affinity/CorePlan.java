package dev.keel.affinity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * Which CPU each of N event loops should run on, and why. The order of preference:
 * <ol>
 *   <li>isolated CPUs (isolcpus=, nohz_full=) first when this process may use any: someone
 *       set them aside for exactly this;</li>
 *   <li>whole physical cores before SMT siblings: two loops on one core share its execution
 *       units and L1/L2;</li>
 *   <li>one NUMA node before another (the NIC's node when one is given, else the node with
 *       the most usable CPUs; then nodes by distance), nodes with memory before memoryless ones;</li>
 *   <li>performance cores before efficiency cores, higher cpu_capacity first;</li>
 *   <li>the core of CPU 0 last among equals: it carries housekeeping work and unbound IRQs.</li>
 * </ol>
 * Only CPUs this process may use ({@link CpuTopology#usable()}) are planned, so a container
 * limited to CPUs 2-3 gets a plan on 2-3.
 */
public final class CorePlan {
    /** One loop's CPU and the reason it was chosen. */
    public record Pick(int cpu, String reason) {
    }

    /** How many loops a default plan makes, and why that many. */
    public record Size(int loops, String reason) {
    }

    private final List<Pick> picks;

    private CorePlan(List<Pick> picks) {
        this.picks = List.copyOf(picks);
    }

    /** A plan of {@code loops} CPUs on this machine. */
    public static CorePlan forLoops(int loops) {
        return on(CpuTopology.system()).plan(loops);
    }

    /**
     * The size of a default plan on {@code t}: one loop per physical core with a usable CPU not
     * in {@code leftOut}, but no more than the cgroup's CPU quota lets run at once, rounded
     * down and at least one: under {@code cpu.max} "150000 100000" (1.5 CPUs) that is one
     * loop, since a loop that is busy wants a whole CPU and a second one would only be
     * throttled with the first.
     */
    public static Size defaultSize(CpuTopology t, CpuSet leftOut) {
        int cores = (int) Math.max(1, t.cpus().stream().filter(c -> c.usable() && !leftOut.contains(c.id()))
                .map(c -> c.core() >= 0 ? "core " + c.core() : "cpu " + c.id()).distinct().count());
        String perCore = "one per usable physical core" + (leftOut.and(t.usable()).isEmpty() ? "" : " not left out");
        if (t.cgroup().quotaCpus().isEmpty()) {
            return new Size(cores, perCore);
        }
        double quota = t.cgroup().quotaCpus().getAsDouble();
        int byQuota = Math.max(1, (int) Math.floor(quota));
        if (byQuota >= cores) {
            return new Size(cores, perCore + "; the cgroup's CPU quota of " + quotaWords(t.cgroup()) + " allows them");
        }
        return new Size(byQuota, "the cgroup's CPU quota is " + quotaWords(t.cgroup()) + ", so " + byQuota
                + (byQuota == 1 ? " loop" : " loops") + " rather than " + cores + " (" + perCore + ")");
    }

    /** "1.50 CPUs (150000/100000 us, /sys/fs/cgroup/cpu.max)". */
    private static String quotaWords(CgroupCpus cg) {
        return String.format(java.util.Locale.ROOT, "%.2f CPUs (%d/%d us%s)", cg.quotaCpus().orElseThrow(),
                cg.quotaMicros().orElseThrow(), cg.periodMicros(), cg.quotaFile().map(f -> ", " + f).orElse(""));
    }

    /** A planner over {@code topology}. */
    public static Planner on(CpuTopology topology) {
        return new Planner(topology);
    }

    /** The loops' CPUs with reasons, in loop order. */
    public List<Pick> picks() {
        return picks;
    }

    /** Loops in the plan (one CPU each). Constant time, allocates nothing. */
    public int size() {
        return picks.size();
    }

    /** The CPU of loop {@code i}. */
    public int cpu(int i) {
        return picks.get(i).cpu();
    }

    /** Why loop {@code i} got its CPU, as {@link #toString()} prints it (e.g. {@code whole core 3; node 0}). */
    public String reason(int i) {
        return picks.get(i).reason();
    }

    /** The CPUs in loop order. */
    public int[] cpus() {
        return picks.stream().mapToInt(Pick::cpu).toArray();
    }

    /** The plan's CPUs as a set (loop order lost); allocates a new set. */
    public CpuSet asSet() {
        return CpuSet.of(cpus());
    }

    /** One line per loop: {@code loop 0 -> CPU 3: whole core 3; node 0}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < picks.size(); i++) {
            sb.append("loop ").append(i).append(" -> CPU ").append(cpu(i)).append(": ").append(reason(i)).append('\n');
        }
        return sb.toString();
    }

    /** Options of a plan: a preferred node (or a NIC's), CPUs to leave out. */
    public static final class Planner {
        private final CpuTopology topology;
        private OptionalInt preferredNode = OptionalInt.empty();
        private String preferredWhy = "";
        private CpuSet excluded = CpuSet.empty();
        private String excludedWhy = "";

        private Planner(CpuTopology topology) {
            this.topology = topology;
        }

        /** Prefer the node of {@code nic}; a NIC without a node (numa_node -1) changes nothing. */
        public Planner nearNic(NicInfo nic) {
            if (nic.node().isPresent()) {
                preferredNode = nic.node();
                preferredWhy = "NIC " + nic.name() + "'s node";
            }
            return this;
        }

        /** Prefer CPUs of {@code node}. */
        public Planner preferNode(int node) {
            preferredNode = OptionalInt.of(node);
            preferredWhy = "the preferred node";
            return this;
        }

        /** Leave {@code cpus} out (for instance CPUs reserved by other processes), saying {@code why}. */
        public Planner excluding(CpuSet cpus, String why) {
            excluded = excluded.or(cpus);
            excludedWhy = why;
            return this;
        }

        /**
         * The plan for {@code loops} loops, one CPU each.
         *
         * @throws IllegalArgumentException when fewer CPUs are usable than loops asked for
         */
        public CorePlan plan(int loops) {
            if (loops <= 0) {
                throw new IllegalArgumentException("a plan needs at least one loop, not " + loops);
            }
            CpuSet candidates = topology.usable().andNot(excluded);
            if (candidates.size() < loops) {
                throw new IllegalArgumentException("cannot plan " + loops + " loops on their own CPUs: this process may use "
                        + topology.usable().size() + " (" + topology.usable().toList() + ")"
                        + (excluded.and(topology.usable()).isEmpty() ? ""
                        : ", of which " + excluded.and(topology.usable()).toList() + " are left out (" + excludedWhy + ")"));
            }
            return new Ranking(topology, candidates, excluded, preferredNode, preferredWhy).take(loops);
        }
    }

    /** The ordering of candidate CPUs and the words for each choice. */
    private static final class Ranking {
        private final CpuTopology t;
        private final CpuSet candidates;
        private final CpuSet excluded;
        private final OptionalInt preferred;
        private final String preferredWhy;
        private final List<Integer> nodeOrder;
        private final boolean anyIsolated;
        private final boolean uneven;

        Ranking(CpuTopology t, CpuSet candidates, CpuSet excluded, OptionalInt preferred, String preferredWhy) {
            this.t = t;
            this.candidates = candidates;
            this.excluded = excluded;
            this.preferred = preferred;
            this.preferredWhy = preferredWhy;
            this.nodeOrder = nodeOrder();
            this.anyIsolated = candidates.stream().anyMatch(c -> isolated(cpu(c)));
            this.uneven = candidates.stream().mapToObj(this::cpu).map(c -> c.kind() + "/" + c.capacity()).distinct().count() > 1;
        }

        private Cpu cpu(int id) {
            return t.cpu(id).orElseThrow();
        }

        private static boolean isolated(Cpu c) {
            return c.isolated() || c.nohzFull();
        }

        /** Siblings already busy before this CPU: lower-numbered candidates and CPUs left out. */
        private int threadRank(Cpu c) {
            CpuSet others = c.otherThreads();
            return (int) others.and(candidates).stream().filter(s -> s < c.id()).count() + others.and(excluded).size();
        }

        private List<Integer> nodeOrder() {
            Map<Integer, Integer> count = new HashMap<>();
            candidates.stream().forEach(c -> count.merge(cpu(c).node(), 1, Integer::sum));
            int first = preferred.isPresent() && count.containsKey(preferred.getAsInt()) ? preferred.getAsInt()
                    : count.keySet().stream().min(Comparator.comparing((Integer n) -> !hasMemory(n))
                    .thenComparing(n -> -count.get(n)).thenComparing(n -> n)).orElse(-1);
            return count.keySet().stream().sorted(Comparator.comparing((Integer n) -> n != first)
                    .thenComparing(n -> !hasMemory(n)).thenComparing(n -> distance(first, n))
                    .thenComparing(n -> -count.get(n)).thenComparing(n -> n)).toList();
        }

        private boolean hasMemory(int node) {
            return t.node(node).map(NumaNode::hasMemory).orElse(true);
        }

        private int distance(int from, int to) {
            return t.node(from).map(n -> n.distanceTo(to)).orElse(from == to ? 10 : 20);
        }

        CorePlan take(int loops) {
            Comparator<Cpu> order = Comparator.comparing((Cpu c) -> !isolated(c))
                    .thenComparingInt(this::threadRank)
                    .thenComparingInt(c -> nodeOrder.indexOf(c.node()))
                    .thenComparing(c -> c.kind() == CoreKind.EFFICIENCY)
                    .thenComparingInt(c -> -c.capacity().orElse(0))
                    .thenComparing(c -> c.siblings().contains(0) || c.id() == 0)
                    .thenComparingInt(Cpu::core)
                    .thenComparingInt(Cpu::id);
            List<Cpu> chosen = candidates.stream().mapToObj(this::cpu).sorted(order).limit(loops).toList();
            CpuSet all = CpuSet.of(chosen.stream().mapToInt(Cpu::id).toArray());
            List<Pick> picks = new ArrayList<>();
            for (Cpu c : chosen) {
                picks.add(new Pick(c.id(), reason(c, all)));
            }
            return new CorePlan(picks);
        }

        private String reason(Cpu c, CpuSet chosen) {
            List<String> parts = new ArrayList<>();
            if (isolated(c)) {
                parts.add("isolated (" + (c.isolated() ? "isolcpus" : "") + (c.isolated() && c.nohzFull() ? ", " : "")
                        + (c.nohzFull() ? "nohz_full" : "") + ")");
            } else if (anyIsolated) {
                parts.add("not isolated: the isolated CPUs are all taken");
            }
            parts.add(coreWords(c, chosen));
            parts.add(nodeWords(c));
            if (uneven) {
                parts.add(switch (c.kind()) {
                    case PERFORMANCE -> "performance core";
                    case EFFICIENCY -> "efficiency core: the performance cores are taken";
                    case UNIFORM -> "";
                });
                c.capacity().ifPresent(cap -> parts.add("capacity " + cap));
            }
            if ((c.siblings().contains(0) || c.id() == 0) && candidates.size() > chosen.size()) {
                parts.add("CPU 0's core comes last among equals (housekeeping, unbound IRQs)");
            }
            return parts.stream().filter(s -> !s.isEmpty()).collect(Collectors.joining("; "));
        }

        private String coreWords(Cpu c, CpuSet chosen) {
            CpuSet others = c.otherThreads();
            String core = "core " + c.core();
            if (others.isEmpty()) {
                return core;
            }
            CpuSet busyBefore = others.and(excluded);
            // A sibling ranks after every first thread, so the lower-numbered ones are already planned.
            CpuSet earlier = CpuSet.of(others.and(candidates).stream().filter(s -> s < c.id()).toArray());
            if (threadRank(c) > 0) {
                if (!busyBefore.isEmpty()) {
                    return "SMT sibling on " + core + ", which it shares with left-out CPU " + busyBefore.toList()
                            + ": no free whole core was left";
                }
                return "SMT sibling of CPU " + earlier.toList() + " on " + core + ": every usable core already has a loop";
            }
            CpuSet notOurs = others.andNot(t.usable());
            String whole = "whole " + core;
            if (!others.and(chosen).isEmpty()) {
                whole += " (its sibling " + others.and(chosen).toList() + " is planned too: more loops than whole cores)";
            } else if (!notOurs.isEmpty()) {
                whole += " (sibling " + notOurs.toList() + " is not this process's: something else may run there)";
            } else {
                whole += " (sibling " + others.toList() + " left idle)";
            }
            return whole;
        }

        private String nodeWords(Cpu c) {
            int first = nodeOrder.get(0);
            String words = "node " + c.node();
            if (t.nodes().size() > 1) {
                if (c.node() == first) {
                    words += preferred.isPresent() && preferred.getAsInt() == first ? " (" + preferredWhy + ")"
                            : nodeOrder.size() > 1 ? " (most usable CPUs)" : "";
                } else {
                    words += " (next after node " + first + ", distance " + distance(first, c.node()) + ")";
                }
            }
            if (!hasMemory(c.node())) {
                words += ", which has no memory of its own";
            }
            return words;
        }
    }
}
