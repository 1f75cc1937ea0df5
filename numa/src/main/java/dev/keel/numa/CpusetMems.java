package dev.keel.numa;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The memory nodes of this process's cpuset cgroup, {@code cpuset.mems.effective} (cgroup v2)
 * or {@code cpuset.effective_mems} (v1), found through {@code /proc/self/cgroup} and
 * {@code /proc/self/mountinfo}, so a container restricted to some nodes reports only those.
 * When the process's own cgroup has no such file (v2 without the cpuset controller enabled
 * there), the nearest ancestor's file is the one in force.
 *
 * @param mems   the effective memory nodes
 * @param source the file they were read from
 */
record CpusetMems(IdSet mems, Path source) {
    private static final String V2_FILE = "cpuset.mems.effective";
    private static final String V1_FILE = "cpuset.effective_mems";

    /** Reads the cpuset of the process whose proc directory is {@code root/proc/self}. */
    static Optional<CpusetMems> read(Path root) {
        List<String> cgroups = SysFiles.lines(SysFiles.under(root, "/proc/self/cgroup"));
        List<Mount> mounts = Mount.read(SysFiles.under(root, "/proc/self/mountinfo"));
        // v1 first: on a hybrid host the cpuset controller is on the v1 hierarchy.
        for (String line : cgroups) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && List.of(f[1].split(",")).contains("cpuset")) {
                Path mountPoint = mounts.stream().filter(m -> m.type().equals("cgroup") && m.options().contains("cpuset"))
                        .findFirst().map(m -> m.resolve(root, f[2]))
                        .orElse(SysFiles.under(root, "/sys/fs/cgroup/cpuset").resolve(relative(f[2])));
                Optional<CpusetMems> found = nearest(mountPoint, V1_FILE, root);
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        for (String line : cgroups) {
            if (line.startsWith("0::")) {
                String path = line.substring(3);
                Path dir = mounts.stream().filter(m -> m.type().equals("cgroup2")).findFirst()
                        .map(m -> m.resolve(root, path))
                        .orElse(SysFiles.under(root, "/sys/fs/cgroup").resolve(relative(path)));
                return nearest(dir, V2_FILE, root);
            }
        }
        return Optional.empty();
    }

    private static Optional<CpusetMems> nearest(Path dir, String file, Path root) {
        for (Path d = dir; d != null && d.startsWith(root); d = d.getParent()) {
            Path candidate = d.resolve(file);
            Optional<String> text = SysFiles.read(candidate);
            if (text.isPresent()) {
                return Optional.of(new CpusetMems(IdSet.parse(text.get()), candidate));
            }
        }
        return Optional.empty();
    }

    private static String relative(String cgroupPath) {
        return cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath;
    }

    /** One line of mountinfo: where a file system of {@code type} shows directory {@code fsRoot}. */
    private record Mount(String fsRoot, String mountPoint, String type, List<String> options) {
        static List<Mount> read(Path mountinfo) {
            return SysFiles.lines(mountinfo).stream().map(Mount::parse).flatMap(Optional::stream).toList();
        }

        // "36 35 98:0 /fsroot /mnt rw,noatime master:1 - cgroup cgroup rw,cpuset"
        private static Optional<Mount> parse(String line) {
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
