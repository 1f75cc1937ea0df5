package dev.keel.cli;

import dev.keel.io.testing.ResourceSnapshot;
import dev.keel.zerocopy.testing.ProcessLines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code keel} in a child JVM, as a user runs it: started with its arguments (optionally under
 * a lower RLIMIT_NOFILE, with SIGHUP ignored, or through another main class), its ready line
 * read and its port parsed, stopped with SIGTERM on close. Its output is read on a thread of
 * its own and every wait for a line has a limit, so a keel that never says what a test waits
 * for fails the test instead of hanging it. Its descriptors and threads are counted from /proc,
 * apart from the test's own.
 */
final class KeelProcess implements AutoCloseable {
    private static final Pattern PORT = Pattern.compile("listening on \\S+:(\\d+) |https?://\\S+:(\\d+)/");
    /** How long keel may take to print its ready line (a JVM start on a loaded machine). */
    static final Duration READY_LIMIT = Duration.ofSeconds(120);
    /** How long {@link #awaitLine} waits for a line. */
    static final Duration LINE_LIMIT = Duration.ofSeconds(60);
    final Process process;
    final String readyLine;
    final int port;
    private final ProcessLines lines;

    private KeelProcess(Process process) throws IOException {
        this.process = process;
        this.lines = new ProcessLines(process.getInputStream(), "keel " + process.pid());
        // Lines before the ready one (a fallback notice) are kept in readyLine for the asserts.
        StringBuilder seen = new StringBuilder();
        Matcher m;
        try {
            while (true) {
                String line = lines.next(READY_LIMIT);
                seen.append(line);
                m = PORT.matcher(line);
                if (m.find()) {
                    break;
                }
                seen.append('\n');
            }
        } catch (AssertionError | InterruptedException e) {
            process.destroyForcibly();
            throw new IOException("no ready line from keel: " + seen, e);
        }
        this.readyLine = seen.toString();
        if (!KeelModules.jvmWarnings(readyLine).isEmpty()) {
            process.destroyForcibly();
            throw new IOException("the JVM warned before keel was ready: " + readyLine);
        }
        this.port = Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(2));
    }

    /**
     * {@code keel ARGS}; {@code fdLimit} > 0 runs it under {@code ulimit -n fdLimit}. keel itself
     * runs on the module path with native access for dev.keel.ffm only, as {@code bin/keel} runs
     * it; another main class (a test's variant of keel) runs on the test's class path.
     */
    static KeelProcess start(int fdLimit, String mainClass, String... args) throws IOException {
        return start(fdLimit > 0 ? "ulimit -n " + fdLimit : null, mainClass, args);
    }

    /**
     * {@code keel ARGS} started as {@code nohup} starts it: with SIGHUP ignored, a disposition
     * it inherits across exec (as from a CI runner or a supervisor that ignores SIGHUP).
     */
    static KeelProcess startIgnoringSighup(String... args) throws IOException {
        return start("trap '' HUP", Keel.class.getName(), args);
    }

    /** {@code keel ARGS}, through {@code bash -c 'SHELL && exec keel ...'} when {@code shell} is not null. */
    private static KeelProcess start(String shell, String mainClass, String... args) throws IOException {
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = mainClass.equals(Keel.class.getName())
                ? new ArrayList<>(KeelModules.keelCommand("-Xmx256m"))
                : new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                        "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        if (shell != null) {
            StringBuilder line = new StringBuilder(shell + " && exec");
            for (String word : command) {
                line.append(" '").append(word).append('\'');
            }
            command = List.of("bash", "-c", line.toString());
        }
        return new KeelProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    static KeelProcess start(String... args) throws IOException {
        return start(0, Keel.class.getName(), args);
    }

    /**
     * Reads the child's output until a line containing {@code text}, waiting at most
     * {@link #LINE_LIMIT}: that line, or an AssertionError naming what came instead.
     */
    String awaitLine(String text) throws InterruptedException {
        return lines.await(text, LINE_LIMIT);
    }

    long pid() {
        return process.pid();
    }

    ResourceSnapshot snapshot() {
        return ResourceSnapshot.ofProcess(process.pid());
    }

    /** utime + stime of the child in clock ticks (fields 14 and 15 of /proc/PID/stat). */
    long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    @Override
    public void close() throws Exception {
        process.destroy(); // SIGTERM: the command closes its server and exits
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
