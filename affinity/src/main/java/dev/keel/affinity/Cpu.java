package dev.keel.affinity;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One CPU (a hardware thread) of a {@link CpuTopology}. Values the kernel does not give (an
 * offline CPU has no topology directory) are -1 or empty.
 *
 * @param id          the CPU number
 * @param online      whether it is online
 * @param socket      {@code physical_package_id}
 * @param die         {@code die_id}
 * @param coreId      {@code core_id}: unique only within a package, with gaps
 * @param core        a machine-wide index of its physical core (CPUs with the same
 *                    {@code core_cpus_list} share one), numbered in order of their first CPU
 * @param siblings    the CPUs of its physical core, itself included (SMT siblings)
 * @param node        its NUMA node
 * @param caches      its caches, by level
 * @param kind        performance or efficiency core on a hybrid processor
 * @param capacity    {@code cpu_capacity} (1024 for the fastest) where the kernel reports it
 * @param isolated    listed in {@code /sys/devices/system/cpu/isolated} (isolcpus=)
 * @param nohzFull    listed in {@code /sys/devices/system/cpu/nohz_full}
 * @param whyNotUsable empty when this process may use it, else the reason it may not
 */
public record Cpu(int id, boolean online, int socket, int die, int coreId, int core, CpuSet siblings, int node,
                  List<Cache> caches, CoreKind kind, OptionalInt capacity, boolean isolated, boolean nohzFull,
                  Optional<String> whyNotUsable) {
    /** Copies {@code caches}, so a record read from sysfs stays as read. */
    public Cpu {
        caches = List.copyOf(caches);
    }

    /** Whether this process may run on it: in its start-up mask, its cgroup cpuset and online. */
    public boolean usable() {
        return whyNotUsable.isEmpty();
    }

    /** Its SMT siblings, itself excluded. */
    public CpuSet otherThreads() {
        return siblings.andNot(CpuSet.of(id));
    }

    /** Its data (or unified) cache of {@code level}, if sysfs lists one. */
    public Optional<Cache> cache(int level) {
        return caches.stream().filter(c -> c.level() == level && c.holdsData()).findFirst();
    }

    /**
     * The level-2 cache this CPU uses, if sysfs describes one. Walks the few caches; allocates the
     * {@link Optional}.
     */
    public Optional<Cache> l2() {
        return cache(2);
    }

    /** The level-3 (last-level on most x86) cache this CPU uses, if sysfs describes one; as {@link #l2()}. */
    public Optional<Cache> l3() {
        return cache(3);
    }
}
