package dev.keel.affinity;

import java.util.Map;

/**
 * A NUMA node as sysfs describes it ({@code /sys/devices/system/node/nodeN}).
 *
 * @param id        the node number (numbers may have gaps: nodes 0 and 8 on some machines)
 * @param cpus      its CPUs ({@code cpulist}); empty for a node of memory only (CXL, HBM)
 * @param hasMemory whether it has memory of its own ({@code has_memory}); a memoryless
 *                  node's CPUs allocate from the nearest node that has some
 * @param distances the SLIT distance to each online node ({@code distance}), 10 to itself
 */
public record NumaNode(int id, CpuSet cpus, boolean hasMemory, Map<Integer, Integer> distances) {
    /** Copies {@code distances}, so the record stays as read from sysfs. */
    public NumaNode {
        distances = Map.copyOf(distances);
    }

    /** The distance to {@code node}; 10 to itself and 20 to others when sysfs gave none. */
    public int distanceTo(int node) {
        return distances.getOrDefault(node, node == id ? 10 : 20);
    }
}
