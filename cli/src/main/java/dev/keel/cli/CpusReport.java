package dev.keel.cli;

import dev.keel.affinity.Cache;
import dev.keel.affinity.CgroupCpus;
import dev.keel.affinity.CorePlan;
import dev.keel.affinity.Cpu;
import dev.keel.affinity.CpuHolder;
import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.NumaNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** What {@code keel cpus} prints, as a table for people or as JSON (docs/cpus-json.md) for scripts. */
final class CpusReport {
    /** Bumped when a field changes meaning or goes away; new fields do not bump it. */
    static final int SCHEMA = 1;

    private final CpuTopology t;
    private final Plan plan;
    private final Optional<NicReport> nic;
    private final CpusCommand.Reservations reservations;
    private final boolean applying;

    /**
     * The plan shown.
     *
     * @param plan        the core plan; empty when none could be made (every usable CPU reserved)
     * @param defaultSize the default plan's size and its reason; empty when --plan N gave the size
     * @param none        why there is no plan, "" when there is one
     */
    record Plan(Optional<CorePlan> plan, Optional<CorePlan.Size> defaultSize, String none) {
    }

    /** {@code applying}: --apply was given, so the NIC part says what it changed rather than how to. */
    CpusReport(CpuTopology t, Plan plan, Optional<NicReport> nic, CpusCommand.Reservations reservations, boolean applying) {
        this.t = t;
        this.plan = plan;
        this.nic = nic;
        this.reservations = reservations;
        this.applying = applying;
    }

    private static String list(CpuSet s) {
        return s.isEmpty() ? "-" : s.toList();
    }

    private static String cacheGroup(Optional<Cache> c) {
        return c.map(x -> x.sharedCpus().toList()).filter(s -> !s.isEmpty()).orElse("-");
    }

    private static String number(int n) {
        return n < 0 ? "-" : Integer.toString(n);
    }

    String toText() {
        StringBuilder sb = new StringBuilder();
        boolean kinds = t.hybrid();
        List<String[]> rows = new ArrayList<>();
        rows.add(kinds ? new String[] {"CPU", "CORE", "SOCKET", "NODE", "SMT", "L2", "L3", "KIND", "ISOLATED", "USABLE"}
                : new String[] {"CPU", "CORE", "SOCKET", "NODE", "SMT", "L2", "L3", "ISOLATED", "USABLE"});
        for (Cpu c : t.cpus()) {
            String isolated = c.isolated() && c.nohzFull() ? "isolcpus,nohz_full"
                    : c.isolated() ? "isolcpus" : c.nohzFull() ? "nohz_full" : "no";
            String usable = c.whyNotUsable().map(w -> "no: " + w).orElse("yes");
            List<String> row = new ArrayList<>(List.of(Integer.toString(c.id()), number(c.core()), number(c.socket()),
                    number(c.node()), list(c.otherThreads()), cacheGroup(c.l2()), cacheGroup(c.l3())));
            if (kinds) {
                row.add(c.kind().name().toLowerCase(Locale.ROOT));
            }
            row.add(isolated);
            row.add(usable);
            rows.add(row.toArray(String[]::new));
        }
        Tables.table(sb, rows);
        sb.append('\n');
        sb.append("usable CPUs:       ").append(list(t.usable())).append(" (").append(t.usable().size())
                .append(" of ").append(t.online().size()).append(" online); Runtime.availableProcessors() = ")
                .append(Runtime.getRuntime().availableProcessors()).append(root()).append('\n');
        sb.append("start-up affinity: ").append(list(t.startupAffinity())).append('\n');
        sb.append("cgroup:            ").append(t.cgroup().describe()).append('\n');
        sb.append("offline:           ").append(list(t.offline())).append("   isolated: ").append(list(t.isolated()))
                .append("   nohz_full: ").append(list(t.nohzFull())).append('\n');
        for (NumaNode n : t.nodes()) {
            StringBuilder d = new StringBuilder();
            new TreeMap<>(n.distances()).forEach((k, v) -> d.append(d.isEmpty() ? "" : " ").append(k).append(':').append(v));
            sb.append(String.format("%-19s", "node " + n.id() + ":")).append("CPUs ").append(list(n.cpus()))
                    .append(n.hasMemory() ? ", memory" : ", no memory").append(", distances ").append(d).append('\n');
        }
        reservationsText(sb);
        nic.ifPresent(x -> x.text(sb, applying));
        if (plan.plan().isEmpty()) {
            sb.append("\nno plan: ").append(plan.none()).append('\n');
            return sb.toString();
        }
        CorePlan p = plan.plan().get();
        sb.append("\nplan for ").append(p.size()).append(p.size() == 1 ? " loop" : " loops")
                .append(plan.defaultSize().map(d -> " (" + d.reason() + "; --plan N for another count)").orElse(""))
                .append(":\n");
        p.toString().lines().forEach(l -> sb.append("  ").append(l).append('\n'));
        return sb.toString();
    }

    private String root() {
        return t.root().equals(java.nio.file.Path.of("/")) ? "" : " (of this JVM, not of " + t.root() + ")";
    }

    /** The reservations held, as a table (CPU, PID, COMMAND, THREAD, SINCE), or why there is none. */
    private void reservationsText(StringBuilder sb) {
        if (reservations.directory().isEmpty()) {
            return; // a recorded tree: this machine's reservations are not its own
        }
        sb.append("reservations:      ");
        if (reservations.problem().isPresent()) {
            sb.append("cannot be read: ").append(reservations.problem().get()).append('\n');
            return;
        }
        String dir = reservations.directory().get().toString();
        if (reservations.held().isEmpty()) {
            sb.append("none (").append(dir).append(")\n");
            return;
        }
        sb.append(reservations.held().size()).append(" CPU").append(reservations.held().size() == 1 ? "" : "s")
                .append(" held by keel processes (").append(dir).append(")\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"CPU", "PID", "COMMAND", "THREAD", "SINCE"});
        for (CpuHolder h : reservations.held()) {
            rows.add(new String[] {Integer.toString(h.cpu()), Long.toString(h.pid()), h.command(), h.thread(),
                h.since().toString()});
        }
        Tables.indented(sb, rows);
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema", SCHEMA);
        m.put("root", t.root().toString());
        m.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        m.put("possible", t.possible().toList());
        m.put("present", t.present().toList());
        m.put("online", t.online().toList());
        m.put("offline", t.offline().toList());
        m.put("isolated", t.isolated().toList());
        m.put("nohzFull", t.nohzFull().toList());
        m.put("startupAffinity", t.startupAffinity().toList());
        m.put("usable", t.usable().toList());
        m.put("usableCount", t.usable().size());
        m.put("hybrid", t.hybrid());
        m.put("cgroup", cgroup(t.cgroup()));
        List<Object> nodes = new ArrayList<>();
        for (NumaNode n : t.nodes()) {
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("node", n.id());
            node.put("cpus", n.cpus().toList());
            node.put("hasMemory", n.hasMemory());
            Map<String, Object> d = new LinkedHashMap<>();
            new TreeMap<>(n.distances()).forEach((k, v) -> d.put(Integer.toString(k), v));
            node.put("distances", d);
            nodes.add(node);
        }
        m.put("nodes", nodes);
        List<Object> cpus = new ArrayList<>();
        for (Cpu c : t.cpus()) {
            cpus.add(cpu(c));
        }
        m.put("cpus", cpus);
        reservations.directory().ifPresent(d -> m.put("reservations", reservationsJson(d)));
        Map<String, Object> p = new LinkedHashMap<>();
        CorePlan core = plan.plan().orElse(null);
        p.put("loops", core == null ? 0 : core.size());
        p.put("default", plan.defaultSize().isPresent());
        p.put("sizeReason", plan.defaultSize().map(CorePlan.Size::reason).orElse(null));
        p.put("none", core == null ? plan.none() : null);
        List<Object> picks = new ArrayList<>();
        for (int i = 0; core != null && i < core.size(); i++) {
            Map<String, Object> pick = new LinkedHashMap<>();
            pick.put("loop", i);
            pick.put("cpu", core.cpu(i));
            pick.put("reason", core.reason(i));
            picks.add(pick);
        }
        p.put("picks", picks);
        m.put("plan", p);
        nic.ifPresent(n -> m.put("nic", n.json()));
        return m;
    }

    private static Map<String, Object> cpu(Cpu c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", c.id());
        m.put("online", c.online());
        m.put("socket", nullIfNegative(c.socket()));
        m.put("die", nullIfNegative(c.die()));
        m.put("core", nullIfNegative(c.core()));
        m.put("coreId", nullIfNegative(c.coreId()));
        m.put("node", nullIfNegative(c.node()));
        m.put("smtSiblings", c.otherThreads().stream().boxed().toList());
        m.put("l2", c.l2().map(x -> x.sharedCpus().toList()).orElse(null));
        m.put("l3", c.l3().map(x -> x.sharedCpus().toList()).orElse(null));
        m.put("kind", c.kind().name().toLowerCase(Locale.ROOT));
        m.put("capacity", c.capacity().isPresent() ? c.capacity().getAsInt() : null);
        m.put("isolated", c.isolated());
        m.put("nohzFull", c.nohzFull());
        m.put("usable", c.usable());
        m.put("whyNotUsable", c.whyNotUsable().orElse(null));
        return m;
    }

    private Map<String, Object> reservationsJson(java.nio.file.Path dir) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("directory", dir.toString());
        r.put("problem", reservations.problem().orElse(null));
        List<Object> held = new ArrayList<>();
        for (CpuHolder h : reservations.held()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("cpu", h.cpu());
            one.put("pid", h.pid());
            one.put("command", h.command());
            one.put("thread", h.thread());
            one.put("tid", h.tid());
            one.put("since", h.since().toString());
            held.add(one);
        }
        r.put("held", held);
        return r;
    }

    private static Object nullIfNegative(int n) {
        return n < 0 ? null : n;
    }

    private static Map<String, Object> cgroup(CgroupCpus cg) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", cg.version());
        m.put("path", cg.cgroupPath());
        m.put("cpus", cg.cpus().map(CpuSet::toList).orElse(null));
        m.put("cpusFile", cg.cpusFile().orElse(null));
        m.put("quotaCpus", cg.quotaCpus().isPresent() ? cg.quotaCpus().getAsDouble() : null);
        m.put("quotaMicros", cg.quotaMicros().isPresent() ? cg.quotaMicros().getAsLong() : null);
        m.put("periodMicros", cg.quotaMicros().isPresent() ? cg.periodMicros() : null);
        m.put("quotaFile", cg.quotaFile().orElse(null));
        return m;
    }
}
