package dev.keel.affinity;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Finds this process's cgroup CPU limits under a root: which hierarchy (v2 first, v1 as the
 * fallback, as the JDK's own container support does), where it is mounted
 * ({@code /proc/self/mountinfo}), which cgroup the process is in ({@code /proc/self/cgroup}),
 * then the limit files from that cgroup up to the hierarchy's root.
 *
 * <p>A v2 hierarchy counts only when its root lists the controller in
 * {@code cgroup.controllers}: on hybrid hosts cgroup2 is mounted (at /sys/fs/cgroup/unified)
 * with no CPU controllers while the limits live in v1.
 *
 * <p>Older systems are read too, as hwloc reads them: without a mountinfo, {@code /proc/mounts}
 * (whose mounts all show their hierarchy from its root); without a cpuset line in
 * {@code /proc/self/cgroup}, {@code /proc/self/cpuset}; and a v1 cpuset mounted with
 * {@code noprefix}, or the cpuset file system of 2.6 kernels ({@code mount -t cpuset}), whose
 * files are {@code cpus} and {@code effective_cpus} without the {@code cpuset.} prefix.
 */
final class CgroupReader {
    private static final String V2_CPUSET = "cpuset.cpus.effective";
    private static final String V1_CPUSET = "cpuset.effective_cpus";
    private static final String V1_CPUSET_OLD = "cpuset.cpus";
    private static final String LEGACY_CPUSET_FS = "cpuset";

    private final SysfsTree tree;
    private final List<Mount> mounts;
    private final List<String[]> memberships;
    private final Optional<String> cpusetPath;

    /** One cgroup mount: where it is, which cgroup it shows at that point, its type and options. */
    private record Mount(Path mountPoint, String root, String fsType, List<String> superOptions) {
        /** v1 cpuset files without the "cpuset." prefix: mounted noprefix, or the old cpuset file system. */
        boolean unprefixed() {
            return fsType.equals(LEGACY_CPUSET_FS) || superOptions.contains("noprefix");
        }
    }

    private CgroupReader(SysfsTree tree) {
        this.tree = tree;
        this.mounts = readMounts(tree);
        this.memberships = tree.lines("proc/self/cgroup").stream()
                .map(line -> line.split(":", 3)).filter(f -> f.length == 3).toList();
        this.cpusetPath = tree.read("proc/self/cpuset").filter(p -> p.startsWith("/"));
    }

    static CgroupCpus read(SysfsTree tree) {
        return new CgroupReader(tree).read();
    }

    private CgroupCpus read() {
        Optional<Hierarchy> v2 = v2();
        Optional<Hierarchy> v2Cpuset = v2.filter(h -> h.controls("cpuset"));
        Optional<Hierarchy> v2Cpu = v2.filter(h -> h.controls("cpu"));
        Optional<Hierarchy> cpusetH = v2Cpuset.or(() -> v1("cpuset"));
        Optional<Hierarchy> cpuH = v2Cpu.or(() -> v1("cpu"));
        if (cpusetH.isEmpty() && cpuH.isEmpty()) {
            return CgroupCpus.NONE;
        }
        Optional<Path> cpusFile = cpusetH.flatMap(h -> h.nearest(h.v2 ? List.of(V2_CPUSET)
                : h.mount.unprefixed() ? List.of("effective_cpus", "cpus") : List.of(V1_CPUSET, V1_CPUSET_OLD)));
        Optional<CpuSet> cpus = cpusFile.flatMap(tree::readList);
        Quota quota = cpuH.map(this::tightestQuota).orElse(Quota.NONE);
        Hierarchy named = cpusetH.orElseGet(cpuH::orElseThrow);
        return new CgroupCpus(named.v2 ? "v2" : "v1", named.cgroupPath, cpus, cpusFile.map(tree::display),
                quota.micros, quota.period, quota.file.map(tree::display));
    }

    /** A hierarchy the process is in: the directory of its cgroup and the mount point above it. */
    private final class Hierarchy {
        final boolean v2;
        final Mount mount;
        final Path mountPoint;
        final Path dir;
        final String cgroupPath;

        Hierarchy(boolean v2, Mount mount, String cgroupPath) {
            this.v2 = v2;
            this.mount = mount;
            this.mountPoint = mount.mountPoint;
            this.cgroupPath = cgroupPath;
            this.dir = resolve(mount, cgroupPath);
        }

        boolean controls(String controller) {
            return tree.read(mountPoint.resolve("cgroup.controllers"))
                    .map(s -> Arrays.asList(s.split("\\s+")).contains(controller)).orElse(false);
        }

        /** The first of {@code names} found in the cgroup's directory or, failing that, its ancestors. */
        Optional<Path> nearest(List<String> names) {
            for (Path d : upward()) {
                for (String name : names) {
                    if (Files.isRegularFile(d.resolve(name))) {
                        return Optional.of(d.resolve(name));
                    }
                }
            }
            return Optional.empty();
        }

        /** The cgroup's directory and each parent up to the mount point. */
        List<Path> upward() {
            List<Path> dirs = new ArrayList<>();
            for (Path d = dir; d != null && d.startsWith(mountPoint); d = d.getParent()) {
                dirs.add(d);
            }
            return dirs;
        }
    }

    /**
     * The directory of {@code cgroupPath} under a mount. The mount shows the hierarchy from
     * its root field down; inside a container with its own cgroup namespace the process's
     * path is "/" and the mount's root is the container's cgroup, so both cases meet here.
     */
    private Path resolve(Mount mount, String cgroupPath) {
        String rel;
        if (mount.root.equals("/")) {
            rel = cgroupPath;
        } else if (cgroupPath.equals(mount.root) || cgroupPath.startsWith(mount.root + "/")) {
            rel = cgroupPath.substring(mount.root.length());
        } else {
            rel = "/";
        }
        Path dir = mount.mountPoint;
        for (String part : rel.split("/")) {
            if (!part.isEmpty()) {
                dir = dir.resolve(part);
            }
        }
        return Files.isDirectory(dir) ? dir : mount.mountPoint;
    }

    private Optional<Hierarchy> v2() {
        Optional<String> path = memberships.stream().filter(f -> f[0].equals("0") && f[1].isEmpty())
                .map(f -> f[2]).findFirst().or(() -> memberships.isEmpty() ? cpusetPath : Optional.empty());
        return mounts.stream().filter(m -> m.fsType.equals("cgroup2")).findFirst()
                .map(m -> new Hierarchy(true, m, path.orElse("/")));
    }

    private Optional<Hierarchy> v1(String controller) {
        Optional<String> path = memberships.stream()
                .filter(f -> Arrays.asList(f[1].split(",")).contains(controller)).map(f -> f[2]).findFirst()
                .or(() -> controller.equals("cpuset") ? cpusetPath : Optional.empty());
        return mounts.stream().filter(m -> m.fsType.equals("cgroup") && m.superOptions.contains(controller)
                        || m.fsType.equals(LEGACY_CPUSET_FS) && controller.equals("cpuset"))
                .findFirst().map(m -> new Hierarchy(false, m, path.orElse("/")));
    }

    private record Quota(OptionalLong micros, long period, Optional<Path> file) {
        static final Quota NONE = new Quota(OptionalLong.empty(), 0, Optional.empty());

        boolean tighterThan(Quota other) {
            return other.micros.isEmpty()
                    || (double) micros.getAsLong() / period < (double) other.micros.getAsLong() / other.period;
        }
    }

    /** A parent's quota also bounds its children, so the tightest on the way up applies. */
    private Quota tightestQuota(Hierarchy h) {
        Quota best = Quota.NONE;
        for (Path d : h.upward()) {
            Quota q = h.v2 ? v2Quota(d) : v1Quota(d);
            if (q.micros.isPresent() && q.tighterThan(best)) {
                best = q;
            }
        }
        return best;
    }

    /** cpu.max: "max 100000" (no limit) or "150000 100000". */
    private Quota v2Quota(Path dir) {
        Path file = dir.resolve("cpu.max");
        Optional<String> text = tree.read(file);
        if (text.isEmpty()) {
            return Quota.NONE;
        }
        String[] f = text.get().split("\\s+");
        if (f[0].equals("max")) {
            return Quota.NONE;
        }
        try {
            long period = f.length > 1 ? Long.parseLong(f[1]) : 0;
            return period > 0 ? new Quota(OptionalLong.of(Long.parseLong(f[0])), period, Optional.of(file)) : Quota.NONE;
        } catch (NumberFormatException e) {
            throw new IllegalStateException(file + " holds '" + text.get() + "', not 'max|QUOTA PERIOD'");
        }
    }

    /** cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us. */
    private Quota v1Quota(Path dir) {
        Path file = dir.resolve("cpu.cfs_quota_us");
        OptionalLong quota = tree.readLong(file);
        OptionalLong period = tree.readLong(dir.resolve("cpu.cfs_period_us"));
        if (quota.isEmpty() || quota.getAsLong() < 0 || period.isEmpty() || period.getAsLong() <= 0) {
            return Quota.NONE;
        }
        return new Quota(quota, period.getAsLong(), Optional.of(file));
    }

    /**
     * Cgroup mounts from mountinfo(5): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE
     * SOURCE SUPEROPTS", else from /proc/mounts: "SOURCE MOUNTPOINT FSTYPE OPTIONS DUMP PASS",
     * which has no ROOT field (each mount is taken to show its hierarchy from the top). Without
     * either (a bare sysfs fixture) the usual places are assumed: cgroup2 at /sys/fs/cgroup, or
     * v1 controllers at /sys/fs/cgroup/CONTROLLER.
     */
    private static List<Mount> readMounts(SysfsTree tree) {
        List<String> lines = tree.lines("proc/self/mountinfo");
        List<Mount> found = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = Arrays.asList(f).indexOf("-");
            if (dash < 6 || f.length < dash + 4) {
                continue;
            }
            addCgroupMount(tree, found, unescape(f[4]), unescape(f[3]), f[dash + 1], f[dash + 3]);
        }
        List<String> mounts = lines.isEmpty() ? tree.lines("proc/mounts") : List.of();
        for (String line : mounts) {
            String[] f = line.split(" ");
            if (f.length >= 4) {
                addCgroupMount(tree, found, unescape(f[1]), "/", f[2], f[3]);
            }
        }
        if (lines.isEmpty() && mounts.isEmpty()) {
            Path base = tree.path("sys/fs/cgroup");
            if (Files.exists(base.resolve("cgroup.controllers"))) {
                found.add(new Mount(base, "/", "cgroup2", List.of()));
            }
            for (String c : List.of("cpuset", "cpu")) {
                if (Files.isDirectory(base.resolve(c))) {
                    found.add(new Mount(base.resolve(c), "/", "cgroup", List.of(c)));
                }
            }
        }
        return found;
    }

    private static void addCgroupMount(SysfsTree tree, List<Mount> found, String point, String root, String type,
                                       String options) {
        if (type.equals("cgroup2") || type.equals("cgroup") || type.equals(LEGACY_CPUSET_FS)) {
            found.add(new Mount(tree.path(point.substring(1)), root, type, Arrays.asList(options.split(","))));
        }
    }

    /** mountinfo escapes space, tab, newline and backslash as \\ooo octal. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
