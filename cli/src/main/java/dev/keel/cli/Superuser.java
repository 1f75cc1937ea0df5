package dev.keel.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether this process may change the machine: --apply writes kernel settings, which takes
 * root. Read from this process's own /proc/self/status (never from a recorded tree), whose
 * {@code Uid:} line lists the real, effective, saved and file-system uids.
 */
final class Superuser {
    private Superuser() {
    }

    /** The effective uid of this process. */
    static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("/proc/self/status has no Uid: line");
    }

    /** Why {@code what} cannot be done by this process, or empty when it runs as root. */
    static Optional<String> refusal(String what) {
        int euid = effectiveUid();
        return euid == 0 ? Optional.empty()
                : Optional.of(what + " needs root (this process runs as uid " + euid + "); nothing was changed");
    }
}
