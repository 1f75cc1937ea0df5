package dev.keel.numa;

import java.nio.file.Path;

/**
 * Where the calling thread runs: the CPU it last ran on, the CPUs it may run on and the node of
 * that CPU. Read from {@code /proc/thread-self} (field 39 of {@code stat}, "processor", and
 * {@code Cpus_allowed_list} of {@code status}), which describe the thread that reads them.
 *
 * @param cpu         the CPU the thread last ran on
 * @param allowedCpus the CPUs its affinity mask (and cpuset) allow
 * @param node        the node of {@code cpu}, -1 when the topology does not list that CPU
 */
public record ThreadPlacement(int cpu, IdSet allowedCpus, int node) {
    private static final int PROCESSOR_FIELD = 39;
    // stat fields are numbered from 1; the first after the ")" closing comm is field 3.
    private static final int FIRST_FIELD_AFTER_COMM = 3;

    /** The calling thread on this machine. */
    public static ThreadPlacement current(NumaTopology topology) {
        return read(Path.of("/"), topology);
    }

    /** The calling thread as recorded under {@code root} (the real one for {@code /}). */
    public static ThreadPlacement read(Path root, NumaTopology topology) {
        Path stat = SysFiles.under(root, "/proc/thread-self/stat");
        String text = SysFiles.read(stat).orElseThrow(() -> new IllegalStateException(stat + " is missing"));
        // comm may hold spaces and parentheses: fields are counted after the last ')'.
        String[] fields = text.substring(text.lastIndexOf(')') + 1).strip().split("\\s+");
        int index = PROCESSOR_FIELD - FIRST_FIELD_AFTER_COMM;
        if (fields.length <= index) {
            throw new IllegalStateException(stat + " has no field " + PROCESSOR_FIELD + ": " + text);
        }
        int cpu = Integer.parseInt(fields[index]);
        IdSet allowed = SysFiles.statusField(SysFiles.under(root, "/proc/thread-self/status"), "Cpus_allowed_list")
                .map(IdSet::parse).orElse(IdSet.empty());
        return new ThreadPlacement(cpu, allowed, topology.nodeOfCpu(cpu).orElse(-1));
    }

    /** The nodes holding the allowed CPUs. */
    public IdSet allowedNodes(NumaTopology topology) {
        return IdSet.of(allowedCpus.stream().map(c -> topology.nodeOfCpu(c).orElse(-1)).filter(n -> n >= 0)
                .distinct().toArray());
    }
}
