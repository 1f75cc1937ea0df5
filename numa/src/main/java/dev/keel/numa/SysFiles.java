package dev.keel.numa;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Reading sysfs, procfs and cgroup files, where a missing file is an answer, not an error. */
final class SysFiles {
    /** Longest file read: a line each (a node list, a distance row). */
    private static final int MAX_BYTES = 1 << 16;

    private SysFiles() {
    }

    /**
     * The file's text up to its first NUL, stripped, or empty when it does not exist. Some
     * kernels ended these files with a NUL (node "online" on 2.6-era kernels, the
     * bin_attribute cpulists of 5.15-rc); like every C reader, the text ends there.
     */
    static Optional<String> read(Path file) {
        // One large read, not Files.readString: for a file of size 0 (procfs) the JDK first reads one
        // byte, and files that answer reads past offset 0 with end of file (sysctls) lose the rest.
        try (java.io.InputStream in = Files.newInputStream(file)) {
            String text = new String(in.readNBytes(MAX_BYTES), java.nio.charset.StandardCharsets.UTF_8);
            int nul = text.indexOf('\0');
            return Optional.of((nul >= 0 ? text.substring(0, nul) : text).strip());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The file's lines, or an empty list when it does not exist. */
    static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** A list-format file as an {@link IdSet}, or empty when the file does not exist. */
    static Optional<IdSet> idSet(Path file) {
        return read(file).map(IdSet::parse);
    }

    /**
     * A set from a hex-mask file or, failing that, its list twin: kernels before 2.6.26 have
     * only the mask ({@code nodeN/cpumap}); both print one kernel bitmap.
     */
    static Optional<IdSet> maskOrList(Path mask, Path list) {
        return read(mask).filter(s -> !s.isEmpty()).map(IdSet::parseMask).or(() -> idSet(list));
    }

    /** The value of {@code key:} in a {@code /proc/.../status}-style file. */
    static Optional<String> statusField(Path file, String key) {
        String prefix = key + ":";
        return lines(file).stream().filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length()).strip()).findFirst();
    }

    /** {@code path} (absolute on the real system) under {@code root}. */
    static Path under(Path root, String path) {
        return root.resolve(path.startsWith("/") ? path.substring(1) : path);
    }
}
