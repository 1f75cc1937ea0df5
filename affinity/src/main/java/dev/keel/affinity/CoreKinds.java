package dev.keel.affinity;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Which CPUs are performance cores and which efficiency cores on a hybrid processor, from the
 * first of these the kernel gives:
 * <ol>
 *   <li>the PMUs Intel hybrid parts register per kind ({@code /sys/devices/cpu_core/cpus},
 *       {@code /sys/devices/cpu_atom/cpus}, Linux 5.13+): the kernel's own word;</li>
 *   <li>on arm64, each CPU's {@code regs/identification/midr_el1}: CPUs of different core
 *       designs (implementer and part number, e.g. Cortex-X925 0xd85 beside Cortex-A725
 *       0xd87) are different kinds, the design with the highest {@code cpu_capacity} being
 *       the performance one (capacity alone varies within one design with its clock);</li>
 *   <li>on x86 without the PMUs (older kernels, or a recorded tree without them), cpufreq's
 *       {@code base_frequency}: a P-core's base clock is above an E-core's, while turbo
 *       maxima differ even among P-cores (Turbo Boost Max 3.0), so they cannot tell kinds.</li>
 * </ol>
 * Nothing found, or one kind only, makes every CPU {@link CoreKind#UNIFORM}.
 */
final class CoreKinds {
    private static final String CPU = "sys/devices/system/cpu/";

    private CoreKinds() {
    }

    /** The kind of each present CPU; empty when the machine has one kind of core. */
    static Map<Integer, CoreKind> read(SysfsTree tree, CpuSet present) {
        Map<Integer, CoreKind> kinds = fromPmus(tree);
        if (kinds.isEmpty()) {
            kinds = rank(tree, present, "regs/identification/midr_el1", CoreKinds::design, "cpu_capacity");
        }
        if (kinds.isEmpty()) {
            kinds = rank(tree, present, "cpufreq/base_frequency", s -> s, "cpufreq/base_frequency");
        }
        return kinds;
    }

    private static Map<Integer, CoreKind> fromPmus(SysfsTree tree) {
        Map<Integer, CoreKind> kinds = new HashMap<>();
        for (CoreKind k : List.of(CoreKind.PERFORMANCE, CoreKind.EFFICIENCY)) {
            tree.readList("sys/devices/" + k.pmu() + "/cpus").ifPresent(s -> s.stream().forEach(c -> kinds.put(c, k)));
        }
        boolean both = kinds.containsValue(CoreKind.PERFORMANCE) && kinds.containsValue(CoreKind.EFFICIENCY);
        return both ? kinds : Map.of();
    }

    /**
     * Groups CPUs by a per-CPU file's value (through {@code key}); with two groups or more, the
     * group with the highest {@code speedFile} value is made of performance cores, the rest of
     * efficiency cores. CPUs without the file (offline ones) get no kind.
     */
    private static Map<Integer, CoreKind> rank(SysfsTree tree, CpuSet present, String file,
                                               java.util.function.Function<String, String> key, String speedFile) {
        Map<String, CpuSet> groups = new LinkedHashMap<>();
        for (int cpu : present.toArray()) {
            Optional<String> value = tree.read(CPU + "cpu" + cpu + "/" + file).filter(s -> !s.isEmpty());
            value.ifPresent(v -> groups.merge(key.apply(v), CpuSet.of(cpu), CpuSet::or));
        }
        if (groups.size() < 2) {
            return Map.of();
        }
        Map<String, Long> speed = new HashMap<>();
        groups.forEach((k, cpus) -> speed.put(k, cpus.stream().mapToObj(c -> number(tree, CPU + "cpu" + c + "/" + speedFile))
                .filter(OptionalLong::isPresent).mapToLong(OptionalLong::getAsLong).max().orElse(-1)));
        long fastest = speed.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        if (fastest < 0 || speed.values().stream().filter(v -> v == fastest).count() > 1) {
            return Map.of(); // no way to tell which kind is the fast one
        }
        Map<Integer, CoreKind> kinds = new HashMap<>();
        groups.forEach((k, cpus) -> cpus.stream().forEach(c -> kinds.put(c,
                speed.get(k) == fastest ? CoreKind.PERFORMANCE : CoreKind.EFFICIENCY)));
        return kinds;
    }

    /** MIDR_EL1's implementer (bits 31-24) and part number (bits 15-4): the core design, without variant and revision. */
    private static String design(String midr) {
        long v = Long.decode(midr.strip());
        return Long.toHexString(v >>> 24 & 0xff) + ":" + Long.toHexString(v >>> 4 & 0xfff);
    }

    private static OptionalLong number(SysfsTree tree, String file) {
        return tree.read(file).filter(s -> !s.isEmpty() && s.chars().allMatch(Character::isDigit))
                .map(s -> OptionalLong.of(Long.parseLong(s))).orElse(OptionalLong.empty());
    }
}
