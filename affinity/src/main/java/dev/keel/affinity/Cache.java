package dev.keel.affinity;

/**
 * One CPU cache as sysfs describes it ({@code /sys/devices/system/cpu/cpuN/cache/indexK}).
 *
 * @param level      1, 2, 3, ...
 * @param type       {@code Data}, {@code Instruction} or {@code Unified}
 * @param size       the size as the kernel prints it, e.g. {@code "2048K"}; "" when unknown
 * @param sharedCpus the CPUs sharing this cache ({@code shared_cpu_list}): a loop and its
 *                   neighbours in this set compete for it
 * @param id         the cache's id among those of its level, -1 when the kernel gives none
 */
public record Cache(int level, String type, String size, CpuSet sharedCpus, int id) {
    /** Whether this cache holds data (a data or unified cache, not an instruction cache). */
    public boolean holdsData() {
        return !type.equals("Instruction");
    }

    /** The size in bytes, parsed from {@code size} ("48K", "2048K", "36M"); -1 when unknown. */
    public long sizeBytes() {
        if (size.isEmpty()) {
            return -1;
        }
        char unit = Character.toUpperCase(size.charAt(size.length() - 1));
        long scale = switch (unit) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = Character.isDigit(unit) ? size : size.substring(0, size.length() - 1);
        try {
            return Long.parseLong(digits) * scale;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
