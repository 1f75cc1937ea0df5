package dev.keel.cli;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * keel's modules as a user runs them: the cli's runtime dependencies (keel's modules and
 * JCTools, listed by the build in {@code target/runtime-classpath.txt}: jars in {@code verify},
 * class directories in a reactor run that stops at {@code test}) and the cli's own classes. A
 * child JVM on this module path is granted native access for {@code dev.keel.ffm} alone, as
 * {@code bin/keel} does.
 */
final class KeelModules {
    /** The one module that makes restricted FFM calls. */
    static final String NATIVE_ACCESS = "--enable-native-access=dev.keel.ffm";

    private KeelModules() {
    }

    /** The cli's runtime dependencies, without the cli itself: what a library user compiles against. */
    static List<String> libraries() {
        String file = System.getProperty("keel.runtime.classpath");
        if (file == null) {
            throw new IllegalStateException("keel.runtime.classpath is not set (the cli pom's surefire configuration sets it)");
        }
        try {
            String text = Files.readString(Path.of(file)).strip();
            return text.isEmpty() ? List.of() : List.of(text.split(File.pathSeparator));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the runtime class path the build wrote", e);
        }
    }

    /** {@link #libraries} and the cli's classes: the module path of {@code keel}. */
    static String modulePath() {
        List<String> entries = new ArrayList<>();
        entries.add(System.getProperty("keel.cli.classes", Path.of("target", "classes").toAbsolutePath().toString()));
        entries.addAll(libraries());
        return String.join(File.pathSeparator, entries);
    }

    /**
     * The lines of {@code output} in which the JVM warns about native access (a restricted
     * method called from a module not granted it, or from the class path without
     * {@code --enable-native-access}) or about {@code sun.misc.Unsafe}; empty when it did not.
     * keel's own log lines (a transport fallback at WARNING) are not these.
     */
    static List<String> jvmWarnings(String output) {
        return output.lines().filter(l -> l.startsWith("WARNING:") && (l.contains("restricted method")
                || l.contains("enable-native-access") || l.contains("native access") || l.contains("sun.misc.Unsafe")
                || l.contains("has been called by"))).toList();
    }

    /** {@code java} with native access for dev.keel.ffm, {@code jvmArgs}, and keel's main on the module path. */
    static List<String> keelCommand(String... jvmArgs) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add(NATIVE_ACCESS);
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("-p", modulePath(), "-m", "dev.keel.cli/" + Keel.class.getName()));
        return command;
    }
}
