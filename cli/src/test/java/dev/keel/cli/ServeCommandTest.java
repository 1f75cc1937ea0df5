package dev.keel.cli;

import dev.keel.zerocopy.http.FileServer;
import dev.keel.zerocopy.testing.ProcessLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel serve}: arguments refused with one line and status 2, and a real process that
 * serves, prints its ready line and stops cleanly on SIGTERM.
 */
class ServeCommandTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private void assertRefused(String reason, String... args) {
        out.reset();
        err.reset();
        assertEquals(2, run(args), String.join(" ", args));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, e.lines().count(), "one line: " + e);
        assertTrue(e.startsWith("keel serve: ") && e.contains(reason), e);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldListServeAndProxyInTheHelp() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("serve") && out.toString().contains("proxy"), out.toString());
    }

    @Test
    void shouldRefuseBadArgumentsWithOneLineAndStatusTwo() throws IOException {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        assertRefused("does not exist", "serve", "--root", dir.resolve("nope").toString(), "--port", "0");
        assertRefused("is not a directory", "serve", "--root", file.toString(), "--port", "0");
        assertRefused("--port must be between 0 and 65535", "serve", "--root", dir.toString(), "--port", "70000");
        assertRefused("--port needs a number", "serve", "--root", dir.toString(), "--port", "eighty");
        assertRefused("--loops must be between", "serve", "--loops", "0");
        assertRefused("--cpus", "serve", "--root", dir.toString(), "--cpus", "3-1");
        assertRefused("--cpus", "serve", "--root", dir.toString(), "--cpus", "a,b");
        assertRefused("--cpus names 2 CPUs for 3 loops", "serve", "--root", dir.toString(), "--cpus", "0,1", "--loops", "3");
        assertRefused("--transport: unknown transport", "serve", "--transport", "kqueue");
        assertRefused("unknown option --frobnicate", "serve", "--frobnicate");
        assertRefused("--root needs a value", "serve", "--root");
        assertRefused("unexpected argument", "serve", "public");
        assertRefused("unknown address", "serve", "--root", dir.toString(), "--host", "no.such.host.invalid");
        assertRefused("--sqpoll needs --transport io_uring", "serve", "--root", dir.toString(), "--sqpoll", "2");
        assertRefused("--busy-poll must be between", "serve", "--root", dir.toString(), "--busy-poll", "-1");
        assertRefused("--idle-timeout must be between", "serve", "--root", dir.toString(), "--idle-timeout", "0");
    }

    @Test
    void shouldRefuseACpuThisProcessCannotRunOn() {
        assertRefused("CPU 4095", "serve", "--root", dir.toString(), "--port", "0", "--cpus", "4095");
    }

    @Test
    void shouldRefuseAPortInUse() throws IOException {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertRefused("in use", "serve", "--root", dir.toString(), "--port", String.valueOf(taken.getLocalPort()));
        }
    }

    /** What the command starts with --transport io_uring: the ring's loops, answering. */
    @Test
    @Timeout(30)
    void shouldServeOverIoUringWhenAskedTo() throws Exception {
        String why = dev.keel.io.Transport.ioUringUnavailableReason();
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> "io_uring not usable here: " + why);
        Files.write(dir.resolve("big.bin"), new byte[3 * 1024 * 1024 + 5]);
        Files.writeString(dir.resolve("index.html"), "<h1>ring</h1>\n");
        CommandOptions o = CommandOptions.parse(new String[] {"--root", dir.toString(), "--port", "0", "--transport", "io_uring"},
                java.util.Set.of("root", "port", "transport"), java.util.Set.of());
        try (FileServer server = ServeCommand.start(o); HttpClient client = HttpClient.newHttpClient()) {
            assertTrue(ServeCommand.readyLine(server).contains("(io_uring, "), ServeCommand.readyLine(server));
            String base = "http://127.0.0.1:" + server.port() + "/";
            HttpResponse<String> page = client.send(HttpRequest.newBuilder(URI.create(base)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals("<h1>ring</h1>\n", page.body());
            HttpResponse<byte[]> big = client.send(HttpRequest.newBuilder(URI.create(base + "big.bin")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, big.statusCode());
            assertEquals(3 * 1024 * 1024 + 5, big.body().length);
        }
    }

    @Test
    @Timeout(60)
    void shouldServeOverIpv6Loopback() throws Exception {
        Files.writeString(dir.resolve("index.html"), "<h1>six</h1>\n");
        CommandOptions o = CommandOptions.parse(new String[] {"--root", dir.toString(), "--port", "0", "--host", "::1"},
                java.util.Set.of("root", "port", "host"), java.util.Set.of());
        try (FileServer server = ServeCommand.start(o); HttpClient client = HttpClient.newHttpClient()) {
            String ready = ServeCommand.readyLine(server);
            assertTrue(ready.startsWith("keel serve: http://[::1]:" + server.port() + "/ "), ready);
            HttpResponse<String> page = client.send(HttpRequest.newBuilder(
                    URI.create("http://[::1]:" + server.port() + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("<h1>six</h1>\n", page.body());
        }
    }

    /** The real command in a child JVM: ready line, a GET, SIGTERM, a clean stop. */
    @Test
    @Timeout(60)
    void shouldServeUntilSigtermAndThenStopCleanly() throws Exception {
        Files.writeString(dir.resolve("index.html"), "<h1>child</h1>\n");
        Process p = KeelProcess.start("serve", "--root", dir.toString(), "--port", "0", "--loops", "2", "--cpus", "0-1");
        try {
            String ready = ProcessLines.firstLine(p.getInputStream(), "keel", dev.keel.cli.KeelProcess.READY_LIMIT);
            Matcher m = Pattern.compile("keel serve: http://127\\.0\\.0\\.1:(\\d+)/ serving (.+) with 2 loops on CPUs 0,1 \\(epoll, .+\\)")
                    .matcher(ready == null ? "" : ready);
            assertTrue(m.matches(), "ready line: " + ready + "\nstderr: " + KeelProcess.stderr(p));
            assertEquals(dir.toRealPath().toString(), Path.of(m.group(2)).toRealPath().toString());
            try (HttpClient client = HttpClient.newHttpClient()) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.group(1) + "/"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("<h1>child</h1>\n", r.body());
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "stopped after SIGTERM");
            assertEquals(143, p.exitValue(), "128 + SIGTERM, after the shutdown hook ran");
            String e = KeelProcess.stderr(p);
            assertTrue(e.contains("keel serve: stopped"), e);
        } finally {
            p.destroyForcibly();
        }
    }

    /** Helpers to run {@code dev.keel.cli.Keel} in a child JVM on keel's module path, as bin/keel does. */
    static final class KeelProcess {
        private KeelProcess() {
        }

        static Process start(String... args) throws IOException {
            List<String> cmd = new ArrayList<>(KeelModules.keelCommand());
            cmd.addAll(List.of(args));
            Path errors = Files.createTempFile("keel-stderr", ".txt");
            errors.toFile().deleteOnExit();
            Process p = new ProcessBuilder(cmd).redirectError(errors.toFile()).start();
            ERRORS.put(p, errors);
            return p;
        }

        private static final java.util.Map<Process, Path> ERRORS = new java.util.concurrent.ConcurrentHashMap<>();

        /** What the child wrote to stderr so far. */
        static String stderr(Process p) {
            try {
                return Files.readString(ERRORS.get(p));
            } catch (IOException e) {
                return "(stderr unreadable: " + e + ")";
            }
        }
    }
}
