package dev.keel.numa;

/**
 * One online NUMA node as sysfs describes it.
 *
 * @param id          the node number (numbers may have gaps: 0 and 8)
 * @param cpus        its CPUs ({@code nodeN/cpulist}); empty for a CPU-less node
 * @param memTotal    bytes of memory on it ({@code nodeN/meminfo} MemTotal); 0 when memoryless
 * @param memFree     bytes free on it at the time of reading
 * @param hasMemory   whether the kernel lists it in {@code has_memory}
 */
public record NumaNode(int id, IdSet cpus, long memTotal, long memFree, boolean hasMemory) {
    /** A node with CPUs but no memory of its own: its threads always allocate remotely. */
    public boolean memoryless() {
        return !hasMemory;
    }
}
