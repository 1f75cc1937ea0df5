package dev.keel.cli;

import dev.keel.affinity.CorePlan;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.NicInfo;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code keel cpus [--json] [--plan N] [--nic IFACE]}: the machine's CPUs as this process sees
 * them (one row per CPU, what it may use and why not), cgroup limits, and a suggested core
 * plan; with {@code --nic}, the NIC's node and IRQs. A report: nothing is changed.
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
                usage: keel cpus [--json] [--plan N] [--nic IFACE]
                  --json        machine-readable output (schema: docs/cpus-json.md)
                  --plan N      suggest CPUs for N event loops (default: one per usable physical core)
                  --nic IFACE   report IFACE's NUMA node and IRQ affinity, and plan near its node
                Rows: one per CPU; USABLE says why a CPU is not usable (offline, outside the cgroup
                cpuset, not in the start-up affinity). Nothing is changed.
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        boolean json = false;
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
                case "--root" -> root = Path.of(value(args, ++i, "--root"));
                default -> throw new UsageException("unknown option '" + args[i] + "' (see keel cpus --help)");
            }
        }
        CpuTopology topology;
        Optional<NicInfo> nic;
        try {
            topology = CpuTopology.load(root);
            nic = nicName == null ? Optional.empty() : Optional.of(NicInfo.read(root, nicName));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int n = loops != null ? loops : CpusReport.usableCores(topology);
        CorePlan.Planner planner = CorePlan.on(topology);
        nic.ifPresent(planner::nearNic);
        CorePlan plan;
        try {
            plan = planner.plan(n);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--plan " + n + ": " + e.getMessage());
        }
        CpusReport report = new CpusReport(topology, plan, loops == null, nic);
        out.print(json ? Json.write(report.toJson()) : report.toText());
        return Keel.EXIT_OK;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new UsageException(option + " needs a value");
        }
        return args[i];
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
