package dev.keel.cli;

import dev.keel.affinity.CorePlan;
import dev.keel.affinity.CpuHolder;
import dev.keel.affinity.CpuReservations;
import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.IrqPlan;
import dev.keel.affinity.NicInfo;
import dev.keel.affinity.ReservedPlan;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code keel cpus [--json] [--plan N] [--nic IFACE [--irqs apart|beside] [--apply]]}: the machine's CPUs as this process sees
 * them (one row per CPU, what it may use and why not), cgroup limits, the CPUs keel processes
 * reserved (CPU, pid, command), and a suggested core plan around them, no bigger by default
 * than the cgroup's CPU quota allows; with {@code --nic}, the NIC's node and IRQs, whether
 * irqbalance runs, and an IRQ placement relative to the plan as the commands that make it.
 * A report: nothing is changed unless {@code --apply} (root only) writes that placement.
 * {@code --root DIR} (not in the help) reads a recorded sysfs/procfs tree instead of "/".
 * The JSON form is described in docs/cpus-json.md.
 */
final class CpusCommand implements Command {
    @Override
    public String name() {
        return "cpus";
    }

    @Override
    public String summary() {
        return "CPU topology, usable CPUs (affinity, cgroup), isolated CPUs and a core plan";
    }

    static String usage() {
        return """
                usage: keel cpus [--json] [--plan N] [--nic IFACE [--irqs apart|beside] [--apply]]
                  --json        machine-readable output (schema: docs/cpus-json.md)
                  --plan N      suggest CPUs for N event loops (default: one per usable physical
                                core, within the cgroup's CPU quota, around reserved CPUs)
                  --nic IFACE   report IFACE's NUMA node, its IRQs (from msi_irqs and
                                /proc/interrupts) and where they may and do run, whether irqbalance
                                runs, plan the loops near its node, and propose an IRQ placement
                                as the commands that make it
                  --irqs MODE   apart (default): each IRQ on a CPU near the NIC that runs no loop;
                                beside: IRQ i on the CPU of loop i mod N
                  --apply       write the proposed placement (/proc/irq/N/smp_affinity_list);
                                needs root; prints each change
                Rows: one per CPU; USABLE says why a CPU is not usable (offline, outside the cgroup
                cpuset, not in the start-up affinity). Then the CPUs keel processes have reserved
                (lock files in the directory shown), and a plan around them: by default one loop
                per usable core, no more than the cgroup's CPU quota allows. Nothing is changed.
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        boolean json = false;
        boolean apply = false;
        IrqPlan.Mode mode = IrqPlan.Mode.APART;
        Integer loops = null;
        String nicName = null;
        Path root = Path.of("/");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    out.print(usage());
                    return Keel.EXIT_OK;
                }
                case "--json" -> json = true;
                case "--plan" -> loops = positive("--plan", value(args, ++i, "--plan"));
                case "--nic" -> nicName = value(args, ++i, "--nic");
                case "--irqs" -> mode = irqMode(value(args, ++i, "--irqs"));
                case "--apply" -> apply = true;
                case "--root" -> root = Path.of(value(args, ++i, "--root"));
                default -> throw new UsageException("unknown option '" + args[i] + "' (see keel cpus --help)");
            }
        }
        if (apply && nicName == null) {
            throw new UsageException("--apply writes an IRQ placement and needs --nic IFACE");
        }
        Optional<String> refusal = apply ? Superuser.refusal("--apply writes /proc/irq/N/smp_affinity_list and")
                : Optional.empty();
        if (refusal.isPresent()) {
            err.println("keel cpus: " + refusal.get());
            return Keel.EXIT_FAILURE;
        }
        CpuTopology topology;
        Optional<NicInfo> nic;
        try {
            topology = CpuTopology.load(root);
            nic = nicName == null ? Optional.empty() : Optional.of(NicInfo.read(root, nicName));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Reservations reservations = Reservations.read(root);
        CpuSet reserved = CpuSet.of(reservations.held().stream().mapToInt(CpuHolder::cpu).toArray());
        CorePlan.Size size = CorePlan.defaultSize(topology, reserved);
        int n = loops != null ? loops : size.loops();
        CorePlan.Planner planner = CorePlan.on(topology);
        nic.ifPresent(planner::nearNic);
        if (!reserved.isEmpty()) {
            planner.excluding(reserved, "reserved: " + ReservedPlan.describe(reservations.held()));
        }
        CpusReport.Plan plan;
        try {
            plan = new CpusReport.Plan(Optional.of(planner.plan(n)), loops == null ? Optional.of(size) : Optional.empty(), "");
        } catch (IllegalArgumentException e) {
            if (loops != null) {
                throw new UsageException("--plan " + n + ": " + e.getMessage());
            }
            // The default plan when other processes reserved every usable CPU: the report says so.
            plan = new CpusReport.Plan(Optional.empty(), Optional.of(size), e.getMessage());
        }
        Path at = root;
        IrqPlan.Mode irqs = mode;
        CpusReport.Plan planned = plan;
        Optional<NicReport> nicReport = nic.map(x -> NicReport.of(at, topology, x, planned.plan(), irqs));
        if (apply) {
            nicReport = Optional.of(nicReport.orElseThrow().apply(root));
        }
        CpusReport report = new CpusReport(topology, plan, nicReport, reservations, apply);
        out.print(json ? Json.write(report.toJson()) : report.toText());
        return nicReport.map(NicReport::failedToApply).orElse(false) ? Keel.EXIT_FAILURE : Keel.EXIT_OK;
    }

    /**
     * The CPU reservations of keel processes on this machine: the directory and who holds what.
     * Not read for a recorded tree ({@code --root}): its machine's reservations are not here.
     *
     * @param directory where the lock files are, empty for a recorded tree
     * @param held      the CPUs held now, ascending
     * @param problem   why they could not be read, if so
     */
    record Reservations(Optional<Path> directory, List<CpuHolder> held, Optional<String> problem) {
        static Reservations read(Path root) {
            if (!root.equals(Path.of("/"))) {
                return new Reservations(Optional.empty(), List.of(), Optional.empty());
            }
            Path dir = CpuReservations.sharedDirectory();
            try {
                return new Reservations(Optional.of(dir), CpuReservations.in(dir).holders(), Optional.empty());
            } catch (RuntimeException e) {
                return new Reservations(Optional.of(dir), List.of(), Optional.of(e.getMessage()));
            }
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new UsageException(option + " needs a value");
        }
        return args[i];
    }

    private static IrqPlan.Mode irqMode(String text) {
        return switch (text) {
            case "apart" -> IrqPlan.Mode.APART;
            case "beside" -> IrqPlan.Mode.BESIDE;
            default -> throw new UsageException("--irqs takes apart or beside, not '" + text + "'");
        };
    }

    private static int positive(String option, String text) {
        try {
            int n = Integer.parseInt(text);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + " takes a number of loops >= 1, not '" + text + "'");
    }
}
