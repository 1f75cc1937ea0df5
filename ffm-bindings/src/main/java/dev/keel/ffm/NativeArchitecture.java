package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxConstants;

import java.util.Locale;

/**
 * The guard between the generated constants and the machine: system call numbers, errno
 * values and struct layouts in {@code dev.keel.ffm.gen} were read from one architecture's
 * headers ({@link LinuxConstants#GENERATED_FOR_ARCH}), and on another the same numbers name
 * other system calls. {@link Downcalls} checks it when it is initialised, before any handle
 * is made, so a jar built for x86-64 refuses to run on aarch64 instead of issuing wrong calls.
 */
public final class NativeArchitecture {
    private NativeArchitecture() {
    }

    /**
     * The architecture a JVM's {@code os.arch} names, in the kernel's spelling ({@code uname -m}):
     * {@code amd64} is {@code x86_64}, {@code arm64} is {@code aarch64}; other names are
     * lower-cased and kept.
     */
    public static String normalise(String osArch) {
        String a = osArch.trim().toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86-64", "x64" -> "x86_64";
            case "arm64" -> "aarch64";
            default -> a;
        };
    }

    /** The architecture the generated sources describe. */
    public static String generatedFor() {
        return LinuxConstants.GENERATED_FOR_ARCH;
    }

    /**
     * Refuses an {@code osArch} (a value of the {@code os.arch} property) the generated sources
     * were not made for.
     *
     * @throws UnsupportedOperationException naming both architectures and what to do
     */
    public static void require(String osArch) {
        String running = normalise(osArch);
        if (!running.equals(generatedFor())) {
            throw new UnsupportedOperationException("keel's kernel constants and struct layouts were generated for "
                    + generatedFor() + ", but this JVM runs on " + running + " (os.arch=" + osArch + "): its system"
                    + " call numbers and layouts differ. Run `make gen` on " + running + " and rebuild.");
        }
    }
}
