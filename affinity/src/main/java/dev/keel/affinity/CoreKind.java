package dev.keel.affinity;

/**
 * The kind of core a CPU belongs to on a hybrid processor, from the PMU devices the kernel
 * registers per kind ({@code /sys/devices/cpu_core/cpus}, {@code /sys/devices/cpu_atom/cpus}
 * on Intel); {@link #UNIFORM} when the machine has one kind only.
 */
public enum CoreKind {
    /** A performance core (Intel "cpu_core"). */
    PERFORMANCE("cpu_core"),
    /** An efficiency core (Intel "cpu_atom"). */
    EFFICIENCY("cpu_atom"),
    /** Not a hybrid machine. */
    UNIFORM("");

    private final String pmu;

    CoreKind(String pmu) {
        this.pmu = pmu;
    }

    /** The PMU device name under /sys/devices, "" for {@link #UNIFORM}. */
    public String pmu() {
        return pmu;
    }
}
