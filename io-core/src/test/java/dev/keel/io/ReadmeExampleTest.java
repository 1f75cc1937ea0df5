package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compiles the echo server of README.md's "keel as a library" section and talks to it. */
class ReadmeExampleTest {
    @Test
    @Timeout(120)
    void shouldCompileAndRunTheReadmeEchoServer(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("").toAbsolutePath().resolveSibling("README.md"));
        int section = readme.indexOf("## keel as a library");
        assertTrue(section >= 0, "README has the library section");
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(section), "the section has a java example");
        Path source = dir.resolve("EchoServer.java");
        Files.writeString(source, m.group(1));

        String classpath = System.getProperty("java.class.path");
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null,
                "-cp", classpath, "-d", dir.toString(), source.toString());
        assertEquals(0, rc, "the README example compiles");

        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process server = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED",
                "-cp", dir + java.io.File.pathSeparator + classpath, "EchoServer", "0")
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()))) {
            String line = out.readLine();
            assertNotNull(line, "the example printed its address");
            Matcher port = Pattern.compile("echo on .*:(\\d+)$").matcher(line);
            assertTrue(port.find(), "ready line: " + line);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(port.group(1))), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("hello keel".getBytes());
                assertArrayEquals("hello keel".getBytes(), s.getInputStream().readNBytes(10));
            }
        } finally {
            server.destroy();
            if (!server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /** The first java block after {@code heading} in README.md, written to {@code dir/name.java} and compiled. */
    private static void compile(Path dir, String heading, String name) throws Exception {
        String readme = Files.readString(Path.of("").toAbsolutePath().resolveSibling("README.md"));
        int section = readme.indexOf(heading);
        assertTrue(section >= 0, "README has " + heading);
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(section), heading + " has a java example");
        Path source = dir.resolve(name + ".java");
        Files.writeString(source, m.group(1));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null,
                "-cp", System.getProperty("java.class.path"), "-d", dir.toString(), source.toString());
        assertEquals(0, rc, "the README's " + name + " compiles");
    }

    private static Process java(Path dir, String... mainAndArgs) throws java.io.IOException {
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(javaBin,
                "--enable-native-access=ALL-UNNAMED", "-Dkeel.cpu.lockdir=" + dir.resolve("cpu-locks"),
                "-cp", dir + java.io.File.pathSeparator + System.getProperty("java.class.path")));
        command.addAll(java.util.List.of(mainAndArgs));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    @Test
    @Timeout(180)
    void shouldRunTheReadmeFramedClientAgainstTheReadmeEchoServer(@TempDir Path dir) throws Exception {
        compile(dir, "## keel as a library", "EchoServer");
        compile(dir, "### A client: request and response", "FramedClient");
        Process server = java(dir, "EchoServer", "0");
        try (BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()))) {
            String line = out.readLine();
            assertNotNull(line, "the echo server printed its address");
            Matcher port = Pattern.compile("echo on .*:(\\d+)$").matcher(line);
            assertTrue(port.find(), "ready line: " + line);
            Process client = java(dir, "FramedClient", "127.0.0.1", port.group(1));
            try {
                assertTrue(client.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the client finishes");
                String printed = new String(client.getInputStream().readAllBytes());
                assertEquals(0, client.exitValue(), printed);
                assertEquals(java.util.List.of("answer: hello", "answer: keel", "answer: bye"),
                        printed.lines().filter(l -> l.startsWith("answer: ")).toList(), printed);
            } finally {
                client.destroyForcibly();
            }
        } finally {
            server.destroy();
            if (!server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }
}
