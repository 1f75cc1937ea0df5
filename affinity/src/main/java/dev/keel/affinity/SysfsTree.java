package dev.keel.affinity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Reads the small text files of sysfs and procfs below a root directory: "/" on a live
 * machine, a recorded or generated tree in tests. Absolute kernel paths are written without
 * the leading slash ({@code "sys/devices/system/cpu/online"}) and resolved against the root,
 * so nothing outside the root is ever read.
 */
final class SysfsTree {
    /** Longest file read: these are a line each, the longest a cpulist of a few thousand CPUs. */
    private static final int MAX_BYTES = 1 << 16;

    private final Path root;

    private SysfsTree(Path root) {
        this.root = root;
    }

    /**
     * A tree rooted at {@code root}, which must be a directory.
     *
     * @throws IllegalArgumentException when {@code root} does not exist or is no directory
     */
    static SysfsTree at(Path root) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("sysfs root " + root + " does not exist or is not a directory");
        }
        return new SysfsTree(root);
    }

    Path root() {
        return root;
    }

    Path path(String relative) {
        return root.resolve(relative);
    }

    /** {@code p} as the kernel would name it: "/" + its path below the root. */
    String display(Path p) {
        return "/" + root.relativize(p).toString();
    }

    boolean exists(String relative) {
        return Files.exists(path(relative));
    }

    /**
     * The file's text up to its first NUL, stripped of surrounding white space; empty when the
     * file is missing. A NUL ends the text as it does for every C reader: some kernels padded
     * these files with one (node "online" on 2.6-era kernels, the bin_attribute cpulists of
     * 5.15-rc, an unset nohz_full), and the recorded trees keep it.
     */
    Optional<String> read(String relative) {
        return read(path(relative));
    }

    Optional<String> read(Path p) {
        // One large read, not Files.readString: for a file of size 0 (procfs) the JDK first reads
        // one byte, and files that answer reads past offset 0 with end of file (sysctls) lose the rest.
        try (java.io.InputStream in = Files.newInputStream(p)) {
            String text = new String(in.readNBytes(MAX_BYTES), java.nio.charset.StandardCharsets.UTF_8);
            int nul = text.indexOf('\0');
            return Optional.of((nul >= 0 ? text.substring(0, nul) : text).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // sysfs answers some reads of present files with EINVAL or ENODEV (for example an
            // offline CPU's attributes); such a file tells us nothing, like a missing one.
            if (Files.isRegularFile(p)) {
                return Optional.empty();
            }
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    /** The file's lines; empty when the file is missing. */
    List<String> lines(String relative) {
        try {
            return Files.readAllLines(path(relative));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path(relative), e);
        }
    }

    OptionalInt readInt(String relative) {
        Optional<String> s = read(relative);
        if (s.isEmpty() || s.get().isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(s.get()));
        } catch (NumberFormatException e) {
            throw new IllegalStateException(path(relative) + " holds '" + s.get() + "', not a number");
        }
    }

    OptionalLong readLong(Path p) {
        Optional<String> s = read(p);
        if (s.isEmpty() || s.get().isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(s.get()));
        } catch (NumberFormatException e) {
            throw new IllegalStateException(p + " holds '" + s.get() + "', not a number");
        }
    }

    /** A cpulist (or nodelist) file; empty when the file is missing. */
    Optional<CpuSet> readList(String relative) {
        return read(relative).map(text -> parse(relative, text));
    }

    Optional<CpuSet> readList(Path p) {
        return read(p).map(text -> parse(p.toString(), text));
    }

    /**
     * A set from its hex-mask file or, failing that, its cpulist twin. Every kernel has the
     * masks ({@code thread_siblings}, {@code shared_cpu_map}, {@code nodeN/cpumap}); the lists
     * came one by one from 2.6.26 on. Both print one kernel cpumask, so on a live machine they
     * agree; where a recorded tree's two disagree, the mask is what hwloc and the kernel's own
     * tools read.
     */
    Optional<CpuSet> readMaskOrList(String mask, String list) {
        return read(mask).filter(s -> !s.isEmpty()).map(text -> {
            try {
                return CpuSet.parseMask(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(path(mask) + ": " + e.getMessage(), e);
            }
        }).or(() -> readList(list));
    }

    private CpuSet parse(String where, String text) {
        try {
            return CpuSet.parseList(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(where + ": " + e.getMessage(), e);
        }
    }

    /**
     * Numbers {@code n} of the entries named {@code prefix + n} in a directory ("cpu" finds
     * cpu0, cpu1, ... and skips cpufreq); empty when the directory is missing.
     */
    CpuSet numberedEntries(String directory, String prefix) {
        Path dir = path(directory);
        if (!Files.isDirectory(dir)) {
            return CpuSet.empty();
        }
        List<Integer> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(prefix) && n.length() > prefix.length()
                            && n.substring(prefix.length()).chars().allMatch(Character::isDigit))
                    .forEach(n -> found.add(Integer.parseInt(n.substring(prefix.length()))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return CpuSet.of(found.stream().mapToInt(Integer::intValue).toArray());
    }
}
