package dev.keel.numa;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The memory nodes of this process's cpuset cgroup, {@code cpuset.mems.effective} (cgroup v2)
 * or {@code cpuset.effective_mems} (v1), found through {@code /proc/self/cgroup} and
 * {@code /proc/self/mountinfo}, so a container restricted to some nodes reports only those.
 * When the process's own cgroup has no such file (v2 without the cpuset controller enabled
 * there), the nearest ancestor's file is the one in force.
 *
 * <p>Older systems are read as hwloc reads them: without a mountinfo, {@code /proc/mounts};
 * without a cpuset line in {@code /proc/self/cgroup}, {@code /proc/self/cpuset}; a v1 cpuset
 * mounted {@code noprefix} or the 2.6 {@code cpuset} file system names its files
 * {@code effective_mems} and {@code mems}; a v2 mount counts only when its root lists the
 * cpuset controller in {@code cgroup.controllers}.
 *
 * @param mems   the effective memory nodes
 * @param source the file they were read from
 */
record CpusetMems(IdSet mems, Path source) {
    private static final String V2_FILE = "cpuset.mems.effective";
    private static final List<String> V1_FILES = List.of("cpuset.effective_mems", "cpuset.mems");
    private static final List<String> V1_UNPREFIXED = List.of("effective_mems", "mems");

    /** Reads the cpuset of the process whose proc directory is {@code root/proc/self}. */
    static Optional<CpusetMems> read(Path root) {
        List<String> cgroups = SysFiles.lines(SysFiles.under(root, "/proc/self/cgroup"));
        Optional<String> cpusetPath = SysFiles.read(SysFiles.under(root, "/proc/self/cpuset")).filter(p -> p.startsWith("/"));
        List<Mount> mounts = Mount.read(root);
        // v1 first: on a hybrid host the cpuset controller is on the v1 hierarchy.
        Optional<String> v1Path = cgroups.stream().map(line -> line.split(":", 3))
                .filter(f -> f.length == 3 && List.of(f[1].split(",")).contains("cpuset")).map(f -> f[2]).findFirst();
        Optional<Mount> v1 = mounts.stream().filter(Mount::v1Cpuset).findFirst();
        if (v1.isPresent() || v1Path.isPresent()) {
            String path = v1Path.or(() -> cpusetPath).orElse("/");
            Path dir = v1.map(m -> m.resolve(root, path))
                    .orElse(SysFiles.under(root, "/sys/fs/cgroup/cpuset").resolve(relative(path)));
            Optional<CpusetMems> found = nearest(dir, v1.map(Mount::unprefixed).orElse(false) ? V1_UNPREFIXED : V1_FILES, root);
            if (found.isPresent()) {
                return found;
            }
        }
        Optional<String> v2Path = cgroups.stream().filter(l -> l.startsWith("0::")).map(l -> l.substring(3)).findFirst()
                .or(() -> cgroups.isEmpty() ? cpusetPath : Optional.empty());
        Optional<Mount> v2 = mounts.stream().filter(m -> m.type().equals("cgroup2")).findFirst();
        if (v2Path.isEmpty() || v2.isPresent() && !v2.get().controls(root, "cpuset")) {
            return Optional.empty();
        }
        Path dir = v2.map(m -> m.resolve(root, v2Path.get()))
                .orElse(SysFiles.under(root, "/sys/fs/cgroup").resolve(relative(v2Path.get())));
        return nearest(dir, List.of(V2_FILE), root);
    }

    private static Optional<CpusetMems> nearest(Path dir, List<String> files, Path root) {
        for (Path d = dir; d != null && d.startsWith(root); d = d.getParent()) {
            for (String file : files) {
                Path candidate = d.resolve(file);
                Optional<String> text = SysFiles.read(candidate);
                if (text.isPresent()) {
                    return Optional.of(new CpusetMems(IdSet.parse(text.get()), candidate));
                }
            }
        }
        return Optional.empty();
    }

    private static String relative(String cgroupPath) {
        return cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath;
    }

    /** One cgroup mount: where a file system of {@code type} shows directory {@code fsRoot}, and its options. */
    private record Mount(String fsRoot, String mountPoint, String type, List<String> options) {
        /** From mountinfo, else from /proc/mounts (which has no root field: "/" is assumed). */
        static List<Mount> read(Path root) {
            List<Mount> found = new ArrayList<>();
            List<String> info = SysFiles.lines(SysFiles.under(root, "/proc/self/mountinfo"));
            info.stream().map(Mount::parseMountinfo).flatMap(Optional::stream).forEach(found::add);
            if (info.isEmpty()) {
                for (String line : SysFiles.lines(SysFiles.under(root, "/proc/mounts"))) {
                    String[] f = line.split(" ");
                    if (f.length >= 4) {
                        found.add(new Mount("/", f[1], f[2], List.of(f[3].split(","))));
                    }
                }
            }
            return found;
        }

        // "36 35 98:0 /fsroot /mnt rw,noatime master:1 - cgroup cgroup rw,cpuset"
        private static Optional<Mount> parseMountinfo(String line) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                return Optional.empty();
            }
            String[] left = line.substring(0, dash).split(" ");
            String[] right = line.substring(dash + 3).split(" ");
            if (left.length < 5 || right.length < 3) {
                return Optional.empty();
            }
            return Optional.of(new Mount(left[3], left[4], right[0], List.of(right[2].split(","))));
        }

        /** A v1 hierarchy with the cpuset controller, or the old cpuset file system. */
        boolean v1Cpuset() {
            return type.equals("cgroup") && options.contains("cpuset") || type.equals("cpuset");
        }

        boolean unprefixed() {
            return type.equals("cpuset") || options.contains("noprefix");
        }

        /** Whether this (v2) mount's root lists {@code controller}; true when it cannot tell (no such file). */
        boolean controls(Path root, String controller) {
            return SysFiles.read(SysFiles.under(root, mountPoint).resolve("cgroup.controllers"))
                    .map(s -> List.of(s.split("\\s+")).contains(controller)).orElse(true);
        }

        /** The directory of cgroup {@code cgroupPath} under this mount, itself under {@code root}. */
        Path resolve(Path root, String cgroupPath) {
            String rel = cgroupPath;
            if (!fsRoot.equals("/") && (rel.equals(fsRoot) || rel.startsWith(fsRoot + "/"))) {
                rel = rel.substring(fsRoot.length());
            }
            return SysFiles.under(root, mountPoint).resolve(relative(rel));
        }
    }
}
