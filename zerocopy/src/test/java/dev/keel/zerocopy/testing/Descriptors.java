package dev.keel.zerocopy.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** This process's open descriptors, read from /proc/self/fd, for leak checks in tests. */
public final class Descriptors {
    private Descriptors() {
    }

    /** How many descriptors are open now. */
    public static long open() {
        return list().length;
    }

    /** Each open descriptor as {@code fd->target}, sorted; {@code ->?} for one closed while listing. */
    public static String[] list() {
        String[] names = Path.of("/proc/self/fd").toFile().list();
        if (names == null) {
            return new String[0];
        }
        for (int i = 0; i < names.length; i++) {
            try {
                names[i] = names[i] + "->" + Files.readSymbolicLink(Path.of("/proc/self/fd", names[i]));
            } catch (IOException e) {
                names[i] = names[i] + "->?"; // closed while listing
            }
        }
        Arrays.sort(names);
        return names;
    }
}
