package dev.keel.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The small text files of /proc and /sys below a root ("/" on this machine, a recorded tree in
 * tests) for {@code keel tune}: a missing or unreadable file is an answer (the kernel lacks the
 * setting, or the recording did), never an error; text ends at a NUL, as for any C reader.
 */
final class RootFiles {
    /** Longest file read: sysctl and sysfs values are a line; /proc/PID/environ is the longest read. */
    private static final int MAX_BYTES = 1 << 16;

    private final Path root;

    RootFiles(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /** {@code relative} ("proc/sys/vm/swappiness") below the root. */
    Path path(String relative) {
        return root.resolve(relative);
    }

    boolean isLive() {
        return root.equals(Path.of("/"));
    }

    Optional<String> read(String relative) {
        return readRaw(relative).map(text -> {
            int nul = text.indexOf('\0');
            return (nul >= 0 ? text.substring(0, nul) : text).strip();
        });
    }

    /**
     * The whole file (up to {@value #MAX_BYTES} bytes), NULs included: /proc/PID/environ
     * separates its variables with them. Read with one large read, not Files.readString: a
     * /proc/sys file has size 0, for which the JDK first reads a single byte, and a sysctl
     * answers any read past offset 0 with end of file, so "60" would read as "6".
     */
    Optional<String> readRaw(String relative) {
        try (InputStream in = Files.newInputStream(path(relative))) {
            return Optional.of(new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // EINVAL, EACCES: the file tells us nothing
        }
    }

    Optional<Long> readLong(String relative) {
        return read(relative).flatMap(s -> {
            try {
                return Optional.of(Long.parseLong(s.split("\\s+")[0]));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    List<String> lines(String relative) {
        return read(relative).map(s -> s.lines().toList()).orElse(List.of());
    }

    /** The entries of directory {@code relative} whose names match {@code pattern}, as relative paths, sorted by number. */
    List<String> entries(String relative, String pattern) {
        Path dir = path(relative);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        Pattern p = Pattern.compile(pattern);
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = new ArrayList<>(s.map(x -> x.getFileName().toString()).filter(n -> p.matcher(n).matches())
                    .toList());
            names.sort((a, b) -> a.replaceAll("\\D", "").isEmpty() || b.replaceAll("\\D", "").isEmpty() ? a.compareTo(b)
                    : Long.compare(Long.parseLong(a.replaceAll("\\D", "")), Long.parseLong(b.replaceAll("\\D", ""))));
            return names.stream().map(n -> relative + "/" + n).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The value of {@code key} on the kernel command line ({@code key=value}; "" for a bare {@code key}). */
    Optional<String> cmdline(String key) {
        for (String word : read("proc/cmdline").orElse("").split("\\s+")) {
            if (word.equals(key)) {
                return Optional.of("");
            }
            if (word.startsWith(key + "=")) {
                return Optional.of(word.substring(key.length() + 1));
            }
        }
        return Optional.empty();
    }
}
