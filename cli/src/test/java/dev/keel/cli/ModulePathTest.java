package dev.keel.cli;

import dev.keel.zerocopy.testing.ProcessLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * keel on the module path, as {@code bin/keel} runs it ({@code -p ... -m dev.keel.cli}), with
 * native access granted to {@code dev.keel.ffm} alone: every restricted FFM call of a run is
 * made by that module, so the JVM prints no native-access warning. The last test shows the
 * check sees the warning when the grant names another module.
 */
class ModulePathTest {
    private static final Pattern READY = Pattern.compile("listening on \\S+:(\\d+) ");

    @Test
    @Timeout(60)
    void shouldPrintTheCpuPlanWithoutAWarning(@TempDir Path dir) throws Exception {
        Run run = run(dir, KeelModules.keelCommand(), "cpus");
        assertEquals(0, run.exit, "keel cpus exits 0; stderr: " + run.stderr);
        assertTrue(run.stdout.contains("CPU"), "keel cpus printed its plan: " + run.stdout);
        assertEquals(List.of(), KeelModules.jvmWarnings(run.stderr), "stderr: " + run.stderr);
    }

    @Test
    @Timeout(60)
    void shouldEchoOverEpollWithoutAWarning(@TempDir Path dir) throws Exception {
        assertEchoesQuietly(dir, "epoll");
    }

    @Test
    @Timeout(60)
    void shouldEchoOverTheBestTransportWithoutAWarning(@TempDir Path dir) throws Exception {
        assertEchoesQuietly(dir, "auto");
    }

    @Test
    @Timeout(60)
    void shouldSeeTheWarningWhenNativeAccessIsGrantedToAnotherModule(@TempDir Path dir) throws Exception {
        List<String> command = new ArrayList<>(KeelModules.keelCommand());
        command.set(command.indexOf(KeelModules.NATIVE_ACCESS), "--enable-native-access=dev.keel.cli");
        Run run = run(dir, command, "cpus");
        List<String> warnings = KeelModules.jvmWarnings(run.stderr);
        assertFalse(warnings.isEmpty(), "the JVM warns about dev.keel.ffm's restricted calls; stderr: " + run.stderr);
        assertTrue(run.stderr.contains("dev.keel.ffm"), "the warning names the module: " + run.stderr);
    }

    private static void assertEchoesQuietly(Path dir, String transport) throws Exception {
        Path err = dir.resolve("stderr.txt");
        List<String> command = new ArrayList<>(KeelModules.keelCommand("-Xmx128m"));
        command.addAll(List.of("echo", "--port", "0", "--loops", "1", "--transport", transport));
        Process keel = new ProcessBuilder(command).redirectError(err.toFile()).start();
        try {
            String ready = ProcessLines.firstLine(keel.getInputStream(), "keel", KeelProcess.READY_LIMIT);
            Matcher m = READY.matcher(ready == null ? "" : ready);
            assertTrue(m.find(), "ready line: " + ready + "; stderr: " + Files.readString(err));
            try (Socket s = new Socket("127.0.0.1", Integer.parseInt(m.group(1)))) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("module path".getBytes(StandardCharsets.US_ASCII));
                assertArrayEquals("module path".getBytes(StandardCharsets.US_ASCII), s.getInputStream().readNBytes(11));
            }
        } finally {
            keel.destroy();
            if (!keel.waitFor(20, TimeUnit.SECONDS)) {
                keel.destroyForcibly().waitFor();
            }
        }
        String stderr = Files.readString(err);
        assertEquals(List.of(), KeelModules.jvmWarnings(stderr), "stderr: " + stderr);
    }

    private record Run(int exit, String stdout, String stderr) {
    }

    private static Run run(Path dir, List<String> command, String... args) throws Exception {
        List<String> all = new ArrayList<>(command);
        all.addAll(List.of(args));
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(all).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(45, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("keel " + String.join(" ", args) + " did not end; stderr: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
