package dev.keel.cli;

import dev.keel.zerocopy.testing.ProcessLines;
import dev.keel.zerocopy.testing.Subprocess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A consumer of keel as README.md's "keel as a library" section shows it: the echo server and
 * its {@code module-info.java}, taken from the README, compiled with the JDK's compiler against
 * keel's built modules (the cli's runtime dependencies: jars in {@code verify}) once as a named
 * module on the module path and once on the class path, and each run against 127.0.0.1. The
 * server stops by itself when its input ends, closing its loops; it must exit 0 without a
 * native-access warning.
 */
class ReadmeConsumerTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern READY = Pattern.compile("echo on .*:(\\d+) ");

    @Test
    @Timeout(120)
    void shouldCompileAndRunTheReadmeExampleAsANamedModule(@TempDir Path dir) throws Exception {
        Path src = writeSources(dir, true);
        Path out = dir.resolve("out");
        String libs = String.join(File.pathSeparator, KeelModules.libraries());
        compile("-p", libs, "-d", out.toString(), src.resolve("module-info.java").toString(),
                src.resolve("example/EchoServer.java").toString());
        assertTrue(Files.exists(out.resolve("module-info.class")), "compiled as a module");
        assertServesAndStops(dir, List.of(KeelModules.NATIVE_ACCESS, "-p", out + File.pathSeparator + libs,
                "-m", "example/example.EchoServer", "0"));
    }

    @Test
    @Timeout(120)
    void shouldCompileAndRunTheReadmeExampleOnTheClassPath(@TempDir Path dir) throws Exception {
        Path src = writeSources(dir, false);
        Path out = dir.resolve("out");
        String libs = String.join(File.pathSeparator, KeelModules.libraries());
        compile("-cp", libs, "-d", out.toString(), src.resolve("example/EchoServer.java").toString());
        assertServesAndStops(dir, List.of("--enable-native-access=ALL-UNNAMED", "-cp", out + File.pathSeparator + libs,
                "example.EchoServer", "0"));
    }

    /** The README's echo server (and, for a module, its descriptor) under {@code dir/src}. */
    private static Path writeSources(Path dir, boolean module) throws Exception {
        Path readmeFile = Path.of("").toAbsolutePath().resolveSibling("README.md");
        String readme = Files.readString(readmeFile);
        int section = readme.indexOf("## keel as a library");
        assertTrue(section >= 0, "README has the library section");
        Matcher m = JAVA_BLOCK.matcher(readme);
        assertTrue(m.find(section), "the section has the echo server");
        String server = m.group(1);
        assertTrue(server.contains("package example;") && server.contains("class EchoServer"), server);
        assertTrue(m.find(), "the section has the module descriptor");
        String descriptor = m.group(1);
        assertTrue(descriptor.contains("module example") && descriptor.contains("requires dev.keel.io;"), descriptor);
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("example"));
        Files.writeString(src.resolve("example/EchoServer.java"), server);
        if (module) {
            Files.writeString(src.resolve("module-info.java"), descriptor);
        }
        return src;
    }

    private static void compile(String... args) {
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(diagnostics, true, StandardCharsets.UTF_8);
        int rc = ToolProvider.getSystemJavaCompiler().run(null, err, err, args);
        assertEquals(0, rc, "the README example compiles: " + diagnostics.toString(StandardCharsets.UTF_8));
    }

    private static void assertServesAndStops(Path dir, List<String> javaArgs) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.add("-Xmx128m");
        command.addAll(javaArgs);
        Path err = dir.resolve("stderr.txt");
        Process server = new ProcessBuilder(command).redirectError(err.toFile()).start();
        try {
            String line = ProcessLines.firstLine(server.getInputStream(), "the example", KeelProcess.READY_LIMIT);
            assertNotNull(line, "the example printed its address; stderr: " + Files.readString(err));
            Matcher port = READY.matcher(line);
            assertTrue(port.find(), "ready line: " + line);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(port.group(1))), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("hello keel".getBytes(StandardCharsets.US_ASCII));
                assertArrayEquals("hello keel".getBytes(StandardCharsets.US_ASCII), s.getInputStream().readNBytes(10));
            }
            server.getOutputStream().close(); // the end of its input: the example closes its group and returns
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the example did not stop when its input ended; stderr: " + Files.readString(err));
            }
        } finally {
            if (server.isAlive()) {
                server.destroyForcibly().waitFor();
            }
        }
        String stderr = Files.readString(err);
        assertEquals(0, server.exitValue(), "the example exits 0; stderr: " + stderr);
        assertEquals(List.of(), KeelModules.jvmWarnings(stderr), "stderr: " + stderr);
    }

    /**
     * The README's framed client, compiled on the class path beside the README's echo server and
     * run against it: each request comes back as its answer, in order, and the client exits 0.
     */
    @Test
    @Timeout(120)
    void shouldRunTheReadmeFramedClientAgainstTheReadmeEchoServer(@TempDir Path dir) throws Exception {
        Path src = writeSources(dir, false);
        String readme = Files.readString(Path.of("").toAbsolutePath().resolveSibling("README.md"));
        int section = readme.indexOf("### A client: request and response");
        assertTrue(section >= 0, "README has the client section");
        Matcher m = JAVA_BLOCK.matcher(readme);
        assertTrue(m.find(section), "the client section has a java example");
        assertTrue(m.group(1).contains("package example;") && m.group(1).contains("class FramedClient"), m.group(1));
        Files.writeString(src.resolve("example/FramedClient.java"), m.group(1));
        Path out = dir.resolve("out");
        String libs = String.join(File.pathSeparator, KeelModules.libraries());
        compile("-cp", libs, "-d", out.toString(), src.resolve("example/EchoServer.java").toString(),
                src.resolve("example/FramedClient.java").toString());
        String classPath = out + File.pathSeparator + libs;
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process server = new ProcessBuilder(java, "-Xmx128m", "--enable-native-access=ALL-UNNAMED", "-cp", classPath,
                "example.EchoServer", "0").redirectError(dir.resolve("server-stderr.txt").toFile()).start();
        try {
            Matcher port = READY.matcher(String.valueOf(ProcessLines.firstLine(server.getInputStream(), "the echo server",
                    KeelProcess.READY_LIMIT)));
            assertTrue(port.find(), "the echo server is ready");
            Subprocess.Result client = Subprocess.run(Duration.ofSeconds(60), java, "-Xmx128m",
                    "--enable-native-access=ALL-UNNAMED", "-cp", classPath, "example.FramedClient", "127.0.0.1", port.group(1));
            String printed = client.utf8() + client.err();
            assertEquals(0, client.exit(), printed);
            assertEquals(List.of("answer: hello", "answer: keel", "answer: bye"),
                    printed.lines().filter(l -> l.startsWith("answer: ")).toList(), printed);
            server.getOutputStream().close();
            assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the echo server stops when its input ends");
        } finally {
            if (server.isAlive()) {
                server.destroyForcibly().waitFor();
            }
        }
    }
}
