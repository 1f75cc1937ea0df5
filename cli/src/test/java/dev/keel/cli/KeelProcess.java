package dev.keel.cli;

import dev.keel.io.testing.ResourceSnapshot;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code keel} in a child JVM, as a user runs it: started with its arguments (optionally under
 * a lower RLIMIT_NOFILE, or through another main class), its ready line read and its port
 * parsed, stopped with SIGTERM on close. Its descriptors and threads are counted from /proc,
 * apart from the test's own.
 */
final class KeelProcess implements AutoCloseable {
    private static final Pattern PORT = Pattern.compile("listening on \\S+:(\\d+) |https?://\\S+:(\\d+)/");
    final Process process;
    final String readyLine;
    final int port;
    private final BufferedReader lines;

    private KeelProcess(Process process) throws IOException {
        this.process = process;
        this.lines = new BufferedReader(new InputStreamReader(process.getInputStream()));
        // Lines before the ready one (a fallback notice) are kept in readyLine for the asserts.
        StringBuilder seen = new StringBuilder();
        Matcher m = null;
        String line;
        while ((line = lines.readLine()) != null) {
            seen.append(line);
            m = PORT.matcher(line);
            if (m.find()) {
                break;
            }
            seen.append('\n');
        }
        this.readyLine = seen.toString();
        if (line == null) {
            process.destroyForcibly();
            throw new IOException("no ready line from keel: " + readyLine);
        }
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
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = mainClass.equals(Keel.class.getName())
                ? new ArrayList<>(KeelModules.keelCommand("-Xmx256m"))
                : new ArrayList<>(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                        "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        if (fdLimit > 0) {
            StringBuilder shell = new StringBuilder("ulimit -n " + fdLimit + " && exec");
            for (String word : command) {
                shell.append(" '").append(word).append('\'');
            }
            command = List.of("bash", "-c", shell.toString());
        }
        return new KeelProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    static KeelProcess start(String... args) throws IOException {
        return start(0, Keel.class.getName(), args);
    }

    /** Reads the child's output until a line containing {@code text}; that line, or an exception at the end of output. */
    String awaitLine(String text) throws IOException {
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.contains(text)) {
                return line;
            }
        }
        throw new IOException("keel ended without printing '" + text + "'");
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
        lines.close();
    }
}
