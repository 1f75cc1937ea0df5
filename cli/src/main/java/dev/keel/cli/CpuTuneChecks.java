package dev.keel.cli;

import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.IrqPlan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * The CPU items of {@code keel tune}: frequency governor, turbo, C-states, isolation of the
 * loops' CPUs, irqbalance and the clocksource. The wants follow what tuned's
 * latency-performance and network-latency profiles set, with the reason each matters to an
 * event loop pinned to its core.
 */
final class CpuTuneChecks {
    /**
     * Deepest idle-state exit latency allowed, in microseconds: the value tuned's
     * latency-performance profile holds through PM QoS ({@code force_latency=...|3}). A CPU that
     * waits in a deeper state (C6: tens to hundreds of us) pays that much before it runs the loop
     * a packet woke.
     */
    static final int MAX_EXIT_LATENCY_MICROS = 3;
    private static final String CPU = "sys/devices/system/cpu";

    private final RootFiles files;

    CpuTuneChecks(RootFiles files) {
        this.files = files;
    }

    List<TuneItem> run() {
        return List.of(governor(), turbo(), cstates(), isolation(), irqbalance(), clocksource());
    }

    /** scaling_governor of each cpufreq policy (each CPU's, on kernels without policy directories). */
    private TuneItem governor() {
        String id = "cpu.governor";
        String title = "CPU frequency governor";
        String wanted = "performance on every CPU";
        String why = "powersave and schedutil lower the clock while a loop waits and raise it only after a burst has"
                + " started, so the first packets of each burst are handled slowly";
        List<String> dirs = files.entries(CPU + "/cpufreq", "policy\\d+");
        if (dirs.isEmpty()) {
            dirs = files.entries(CPU, "cpu\\d+").stream().map(d -> d + "/cpufreq")
                    .filter(d -> files.read(d + "/scaling_governor").isPresent()).toList();
        }
        if (dirs.isEmpty()) {
            return TuneItem.info(id, title, "no cpufreq driver (a virtual machine, or frequency not under the"
                    + " kernel's control)", wanted, why + "; here the host or firmware sets the clock");
        }
        Map<String, List<String>> byGovernor = new LinkedHashMap<>();
        List<TuneItem.Fix> fixes = new ArrayList<>();
        for (String d : dirs) {
            String g = files.read(d + "/scaling_governor").orElse("?");
            byGovernor.computeIfAbsent(g, k -> new ArrayList<>()).add(d.substring(d.lastIndexOf('/') + 1));
            if (!g.equals("performance") && files.read(d + "/scaling_available_governors").orElse("performance")
                    .contains("performance")) {
                fixes.add(new TuneItem.Fix(d + "/scaling_governor", "performance"));
            }
        }
        String current = byGovernor.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue().size()
                + (e.getValue().size() == 1 ? " policy)" : " policies)")).collect(Collectors.joining(", "));
        if (byGovernor.size() == 1 && byGovernor.containsKey("performance")) {
            return TuneItem.ok(id, title, current, wanted, why);
        }
        return TuneItem.fail(id, title, current, wanted, why, List.of("cpupower frequency-set -g performance"), fixes);
    }

    /** intel_pstate/no_turbo, else cpufreq/boost: a choice, reported. */
    private TuneItem turbo() {
        String wanted = "on for the fastest clock; off where the steadiest latency matters more than the lowest";
        String why = "turbo raises the clock while power and temperature allow, so the same work takes a varying"
                + " time; off trades speed for a clock that does not move";
        Optional<Long> noTurbo = files.readLong(CPU + "/intel_pstate/no_turbo");
        Optional<Long> boost = files.readLong(CPU + "/cpufreq/boost");
        String current = noTurbo.map(v -> v == 0 ? "on (intel_pstate no_turbo=0)" : "off (intel_pstate no_turbo=1)")
                .or(() -> boost.map(v -> v == 1 ? "on (cpufreq boost=1)" : "off (cpufreq boost=0)"))
                .orElse("not exposed (no intel_pstate or cpufreq boost control)");
        return TuneItem.info("cpu.turbo", "turbo", current, wanted, why);
    }

    /** Enabled idle states deeper than {@link #MAX_EXIT_LATENCY_MICROS}, on any CPU. */
    private TuneItem cstates() {
        String id = "cpu.cstates";
        String title = "CPU idle states (C-states)";
        String wanted = "no enabled idle state with an exit latency above " + MAX_EXIT_LATENCY_MICROS + " us";
        String why = "a CPU waiting in a deep C-state takes tens to hundreds of microseconds to wake for the packet"
                + " that ends the wait, and its caches may have been flushed";
        if (files.cmdline("idle").filter(v -> v.equals("poll")).isPresent()) {
            return TuneItem.ok(id, title, "idle=poll: the CPUs never sleep", wanted, why);
        }
        String driver = files.read(CPU + "/cpuidle/current_driver").orElse("none");
        Map<String, Integer> deep = new LinkedHashMap<>();
        List<TuneItem.Fix> fixes = new ArrayList<>();
        int states = 0;
        for (String cpu : files.entries(CPU, "cpu\\d+")) {
            for (String s : files.entries(cpu + "/cpuidle", "state\\d+")) {
                states++;
                long latency = files.readLong(s + "/latency").orElse(0L);
                boolean disabled = files.readLong(s + "/disable").orElse(0L) != 0;
                if (!disabled && latency > MAX_EXIT_LATENCY_MICROS) {
                    deep.merge(files.read(s + "/name").orElse("?") + " (" + latency + " us)", 1, Integer::sum);
                    fixes.add(new TuneItem.Fix(s + "/disable", "1"));
                }
            }
        }
        String limits = files.cmdline("intel_idle.max_cstate").map(v -> ", intel_idle.max_cstate=" + v).orElse("")
                + files.cmdline("processor.max_cstate").map(v -> ", processor.max_cstate=" + v).orElse("");
        if (states == 0) {
            return TuneItem.info(id, title, "no idle states exposed (driver " + driver + limits + ")", wanted,
                    why + "; without cpuidle states (a virtual machine) the host decides");
        }
        if (deep.isEmpty()) {
            return TuneItem.ok(id, title, "driver " + driver + limits + ", deep states disabled", wanted, why);
        }
        String current = "driver " + driver + limits + "; enabled: " + deep.entrySet().stream()
                .map(e -> e.getKey() + " on " + e.getValue() + (e.getValue() == 1 ? " CPU" : " CPUs"))
                .collect(Collectors.joining(", "));
        return TuneItem.fail(id, title, current, wanted, why, List.of("cpupower idle-set -D " + MAX_EXIT_LATENCY_MICROS,
                "or on the kernel command line: intel_idle.max_cstate=1 (reboot)"), fixes);
    }

    /** isolcpus, nohz_full and rcu_nocbs for the CPUs the loops would run on. */
    private TuneItem isolation() {
        String id = "cpu.isolation";
        String title = "isolated CPUs for the loops";
        CpuSet isolated = files.read(CPU + "/isolated").filter(s -> !s.isEmpty()).map(CpuSet::parseList).orElse(CpuSet.empty());
        CpuSet nohz = files.read(CPU + "/nohz_full").filter(s -> !s.isEmpty() && !s.startsWith("("))
                .map(CpuSet::parseList).orElse(CpuSet.empty());
        CpuSet nocbs = files.cmdline("rcu_nocbs").filter(s -> !s.isEmpty() && Character.isDigit(s.charAt(0)))
                .map(CpuSet::parseList).orElse(CpuSet.empty());
        CpuTopology t = CpuTopology.load(files.root());
        CpuSet housekeeping = t.cpu(0).map(c -> c.siblings().isEmpty() ? CpuSet.of(0) : c.siblings()).orElse(CpuSet.of(0));
        CpuSet suggested = isolated.isEmpty() ? t.online().andNot(housekeeping) : isolated;
        String wanted = "the loops' CPUs kept for them: isolcpus (or a cpuset partition), nohz_full and rcu_nocbs"
                + " on the same CPUs";
        String why = "on a shared CPU the scheduler runs other tasks, the timer tick and RCU callbacks between a"
                + " loop's passes; isolated, nohz_full and rcu_nocbs CPUs run the loop and little else";
        String current = "isolated " + words(isolated) + ", nohz_full " + words(nohz) + ", rcu_nocbs " + words(nocbs);
        if (suggested.isEmpty()) {
            return TuneItem.info(id, title, current + " (one core: nothing to isolate from CPU 0's housekeeping)",
                    wanted, why);
        }
        if (!isolated.isEmpty() && nohz.and(isolated).equals(isolated) && nocbs.and(isolated).equals(isolated)) {
            return TuneItem.ok(id, title, current, wanted, why);
        }
        String list = suggested.toList();
        return TuneItem.fail(id, title, current, wanted, why, List.of("add to the kernel command line (GRUB_CMDLINE_LINUX"
                + " in /etc/default/grub, update-grub, reboot): isolcpus=managed_irq,domain," + list + " nohz_full="
                + list + " rcu_nocbs=" + list + "; then start keel with taskset -c " + list), List.of());
    }

    private TuneItem irqbalance() {
        String id = "irqbalance";
        String title = "irqbalance";
        String wanted = "not running, or running with the loops' CPUs banned (IRQBALANCE_BANNED_CPULIST)";
        String why = "irqbalance moves interrupts every 10 seconds by load, onto the loops' CPUs as readily as"
                + " elsewhere, and undoes a placement made by hand";
        OptionalLong pid = IrqPlan.irqbalance(files.root());
        if (pid.isEmpty()) {
            return TuneItem.ok(id, title, "not running", wanted, why);
        }
        String banned = files.readRaw("proc/" + pid.getAsLong() + "/environ").map(env -> {
            for (String kv : env.split("\0")) {
                if (kv.startsWith("IRQBALANCE_BANNED_CPULIST=") || kv.startsWith("IRQBALANCE_BANNED_CPUS=")) {
                    return kv.substring(kv.indexOf('=') + 1);
                }
            }
            return "";
        }).orElse("");
        if (!banned.isEmpty()) {
            return TuneItem.ok(id, title, "running (pid " + pid.getAsLong() + ") with CPUs " + banned + " banned",
                    wanted, why);
        }
        return TuneItem.fail(id, title, "running (pid " + pid.getAsLong() + "), no CPU banned", wanted, why,
                List.of("systemctl disable --now irqbalance", "then place the NIC's IRQs: keel cpus --nic IFACE"),
                List.of());
    }

    private TuneItem clocksource() {
        String id = "clocksource";
        String title = "clocksource";
        String dir = "sys/devices/system/clocksource/clocksource0/";
        String current = files.read(dir + "current_clocksource").orElse("unknown");
        String available = files.read(dir + "available_clocksource").orElse("");
        String wanted = "tsc (x86) or arch_sys_counter (arm64)";
        String why = "every timestamp a loop takes (timeouts, histograms) reads it; tsc and arch_sys_counter are read"
                + " in user space through the vDSO, hpet and acpi_pm cost a system call and a slow device read";
        if (current.equals("tsc") || current.equals("arch_sys_counter")) {
            return TuneItem.ok(id, title, current, wanted, why);
        }
        if (!available.contains("tsc") && (current.contains("kvm") || current.contains("hyperv") || current.contains("xen"))) {
            return TuneItem.info(id, title, current + " (available: " + available + ")", wanted,
                    why + "; a paravirtual clock is read through the vDSO too, and tsc is not offered here");
        }
        List<TuneItem.Fix> fixes = available.contains("tsc") ? List.of(new TuneItem.Fix(dir + "current_clocksource", "tsc"))
                : List.of();
        return TuneItem.fail(id, title, current + " (available: " + available + ")", wanted, why,
                List.of("echo tsc > /" + dir + "current_clocksource", "and on the kernel command line: tsc=reliable"),
                fixes);
    }

    private static String words(CpuSet s) {
        return s.isEmpty() ? "none" : s.toList();
    }
}
