package dev.keel.affinity;

import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The CPU limits a process's cgroup puts on it: the cpuset it may run on
 * ({@code cpuset.cpus.effective} in cgroup v2, {@code cpuset.effective_cpus} in v1) and its
 * CPU bandwidth quota ({@code cpu.max} in v2, {@code cpu.cfs_quota_us}/{@code cpu.cfs_period_us}
 * in v1), each with the file it was read from. A container that docker started with
 * {@code --cpuset-cpus=2-3 --cpus=1.5} shows cpus 2-3 and a quota of 1.5 CPUs here.
 *
 * @param version       {@code "v2"} or {@code "v1"}: the hierarchy the cpuset came from
 *                      (else the quota's), {@code "none"} when no controller was found
 * @param cgroupPath    the process's cgroup path in that hierarchy, as /proc/self/cgroup names it
 * @param cpus          the effective cpuset, when a cpuset controller applies
 * @param cpusFile      the file {@code cpus} was read from, as the kernel names it
 * @param quotaMicros   run time allowed per period, in microseconds, when limited
 * @param periodMicros  the period of {@code quotaMicros}; 0 when there is no quota
 * @param quotaFile     the file of the tightest quota on the way to the hierarchy's root
 */
public record CgroupCpus(String version, String cgroupPath, Optional<CpuSet> cpus, Optional<String> cpusFile,
                         OptionalLong quotaMicros, long periodMicros, Optional<String> quotaFile) {

    static final CgroupCpus NONE = new CgroupCpus("none", "/", Optional.empty(), Optional.empty(),
            OptionalLong.empty(), 0, Optional.empty());

    /** The quota as a number of CPUs (quota / period), when there is one: 1.5 means 150 ms per 100 ms. */
    public OptionalDouble quotaCpus() {
        return quotaMicros.isPresent() && periodMicros > 0
                ? OptionalDouble.of((double) quotaMicros.getAsLong() / periodMicros)
                : OptionalDouble.empty();
    }

    /** One line for people, e.g. {@code "v2 /kubepods/x: cpuset 2-3, quota 1.50 CPUs (150000/100000 us)"}. */
    public String describe() {
        if (version.equals("none")) {
            return "no cpuset or cpu controller found";
        }
        String set = cpus.map(c -> "cpuset " + c.toList()).orElse("no cpuset limit");
        String quota = quotaMicros.isPresent()
                ? String.format("quota %.2f CPUs (%d/%d us)", quotaCpus().orElseThrow(), quotaMicros.getAsLong(), periodMicros)
                : "no CPU quota";
        return version + " " + cgroupPath + ": " + set + ", " + quota;
    }
}
