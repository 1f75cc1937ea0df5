package dev.keel.cli;

import dev.keel.affinity.CorePlan;
import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.IrqPlan;
import dev.keel.affinity.NicInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The {@code --nic IFACE} part of {@code keel cpus}: where the NIC sits, its IRQs (the CPUs each
 * may run on, does run on and has run on), whether irqbalance runs, and a placement of the IRQs
 * apart from the planned loops (or beside them), printed as the commands a tuner would run.
 * With {@code --apply} the placement is written and each change printed.
 */
final class NicReport {
    private final NicInfo nic;
    private final OptionalLong irqbalance;
    private final Optional<IrqPlan> plan;
    private final String noPlan;
    private final List<IrqPlan.Applied> applied;

    private NicReport(NicInfo nic, OptionalLong irqbalance, Optional<IrqPlan> plan, String noPlan,
                      List<IrqPlan.Applied> applied) {
        this.nic = nic;
        this.irqbalance = irqbalance;
        this.plan = plan;
        this.noPlan = noPlan;
        this.applied = List.copyOf(applied);
    }

    /** The report of {@code nic} below {@code root}, placing its IRQs relative to {@code loops} (if a plan was made). */
    static NicReport of(Path root, CpuTopology t, NicInfo nic, Optional<CorePlan> loops, IrqPlan.Mode mode) {
        OptionalLong irqbalance = IrqPlan.irqbalance(root);
        if (nic.device().isEmpty() || nic.irqs().isEmpty()) {
            return new NicReport(nic, irqbalance, Optional.empty(), "the NIC has no IRQs", List.of());
        }
        if (loops.isEmpty()) {
            return new NicReport(nic, irqbalance, Optional.empty(), "no loop plan to place IRQs by", List.of());
        }
        try {
            return new NicReport(nic, irqbalance, Optional.of(IrqPlan.of(t, nic, loops.get().asSet(), mode)), "", List.of());
        } catch (IllegalArgumentException e) {
            return new NicReport(nic, irqbalance, Optional.empty(), e.getMessage(), List.of());
        }
    }

    /** Writes the placement below {@code root}; the report then says what changed. */
    NicReport apply(Path root) {
        if (plan.isEmpty()) {
            throw new UsageException("--apply: no IRQ placement to write: " + noPlan);
        }
        return new NicReport(nic, irqbalance, plan, noPlan, plan.get().apply(root));
    }

    boolean failedToApply() {
        return applied.stream().anyMatch(a -> a.error().isPresent());
    }

    void text(StringBuilder sb, boolean applying) {
        sb.append("\nNIC ").append(nic.name()).append(": ");
        if (nic.device().isEmpty()) {
            sb.append("virtual (no device, no IRQs)\n");
            return;
        }
        sb.append("node ").append(nic.node().isPresent() ? Integer.toString(nic.node().getAsInt()) : "none (numa_node -1)")
                .append(", local CPUs ").append(list(nic.localCpus())).append(", device ").append(nic.device().get())
                .append('\n');
        if (nic.irqs().isEmpty()) {
            sb.append("  no IRQs found\n");
            return;
        }
        Map<Integer, CpuSet> proposed = new LinkedHashMap<>();
        plan.ifPresent(p -> p.moves().forEach(m -> proposed.put(m.irq(), m.to())));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"IRQ", "ACTIONS", "AFFINITY", "EFFECTIVE", "HANDLED-ON", "COUNT", "PROPOSED"});
        for (NicInfo.Irq irq : nic.irqs()) {
            rows.add(new String[] {Integer.toString(irq.irq()), irq.actions().isEmpty() ? "-" : irq.actions(),
                list(irq.affinity()), irq.effective().map(NicReport::list).orElse("-"), list(irq.handledOn()),
                Long.toString(irq.count()), proposed.containsKey(irq.irq()) ? proposed.get(irq.irq()).toList() : "-"});
        }
        Tables.indented(sb, rows);
        sb.append("irqbalance: ").append(irqbalance.isPresent() ? "running (pid " + irqbalance.getAsLong()
                + "): it moves IRQs by itself every 10 s and would undo a placement" : "not running").append('\n');
        if (plan.isEmpty()) {
            sb.append("no IRQ placement: ").append(noPlan).append('\n');
            return;
        }
        IrqPlan p = plan.get();
        sb.append("IRQ placement ").append(p.why()).append(p.changes().isEmpty() ? ": already so\n" : ":\n");
        if (irqbalance.isPresent() && !p.changes().isEmpty()) {
            sb.append("  systemctl stop irqbalance    # or IRQBALANCE_BANNED_CPULIST=").append(p.irqCpus().toList())
                    .append(" in its environment file\n");
        }
        for (IrqPlan.Move m : p.changes()) {
            sb.append("  ").append(m.command()).append("    # ").append(m.actions().isEmpty() ? "IRQ " + m.irq() : m.actions())
                    .append(": ").append(list(m.from())).append(" -> ").append(m.to().toList()).append('\n');
        }
        if (applying) {
            for (IrqPlan.Applied a : applied) {
                IrqPlan.Move m = a.move();
                sb.append(a.error().isEmpty() ? "changed: IRQ " : "refused: IRQ ").append(m.irq()).append(" (")
                        .append(m.actions()).append(") smp_affinity_list ").append(list(m.from())).append(" -> ")
                        .append(a.error().isEmpty() ? a.after().toList() : m.to().toList() + ": " + a.error().get())
                        .append('\n');
            }
            if (applied.isEmpty()) {
                sb.append("nothing to change\n");
            }
        } else if (!p.changes().isEmpty()) {
            sb.append("  (keel cpus --nic ").append(nic.name()).append(" --apply writes these, as root; nothing was changed)\n");
        }
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", nic.name());
        m.put("device", nic.device().orElse(null));
        m.put("node", nic.node().isPresent() ? nic.node().getAsInt() : null);
        m.put("localCpus", nic.localCpus().toList());
        Map<Integer, CpuSet> proposed = new LinkedHashMap<>();
        plan.ifPresent(p -> p.moves().forEach(x -> proposed.put(x.irq(), x.to())));
        List<Object> irqs = new ArrayList<>();
        for (NicInfo.Irq irq : nic.irqs()) {
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("irq", irq.irq());
            i.put("actions", irq.actions());
            i.put("affinity", irq.affinity().toList());
            i.put("effective", irq.effective().map(CpuSet::toList).orElse(null));
            i.put("handledOn", irq.handledOn().toList());
            i.put("count", irq.count());
            i.put("proposed", proposed.containsKey(irq.irq()) ? proposed.get(irq.irq()).toList() : null);
            irqs.add(i);
        }
        m.put("irqs", irqs);
        m.put("irqbalancePid", irqbalance.isPresent() ? irqbalance.getAsLong() : null);
        Map<String, Object> placement = new LinkedHashMap<>();
        placement.put("mode", plan.map(p -> p.mode().name().toLowerCase(java.util.Locale.ROOT)).orElse(null));
        placement.put("why", plan.map(IrqPlan::why).orElse(null));
        placement.put("none", plan.isEmpty() ? noPlan : null);
        placement.put("commands", plan.map(p -> p.changes().stream().map(IrqPlan.Move::command).toList()).orElse(List.of()));
        List<Object> changes = new ArrayList<>();
        for (IrqPlan.Applied a : applied) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("irq", a.move().irq());
            c.put("from", a.move().from().toList());
            c.put("to", a.move().to().toList());
            c.put("after", a.after().toList());
            c.put("error", a.error().orElse(null));
            changes.add(c);
        }
        placement.put("applied", changes);
        m.put("placement", placement);
        return m;
    }

    private static String list(CpuSet s) {
        return s.isEmpty() ? "-" : s.toList();
    }
}
