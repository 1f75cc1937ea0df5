package dev.keel.cli;

import dev.keel.zerocopy.testing.ProcessLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EchoCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    void shouldRefuseACpuThatDoesNotExistWithOneLine() {
        assertEquals(2, run("echo", "--cpus", "4095"));
        assertTrue(err.toString().startsWith("keel echo: --cpus: CPU 4095 does not exist"), err.toString());
        assertEquals(1, err.toString().lines().count());
    }

    @Test
    void shouldRefuseBadArguments() {
        assertEquals(2, run("echo", "--port", "70000"));
        assertTrue(err.toString().contains("--port must be between 0 and 65535"), err.toString());
        err.reset();
        assertEquals(2, run("echo", "--frobnicate"));
        assertTrue(err.toString().contains("unknown option --frobnicate"), err.toString());
        err.reset();
        assertEquals(2, run("echo", "--loops", "2", "--cpus", "0"));
        assertTrue(err.toString().contains("one CPU per loop"), err.toString());
    }

    @Test
    void shouldRefuseAPortInUseWithTheErrno() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(1, run("echo", "--port", Integer.toString(taken.getLocalPort())));
            assertTrue(err.toString().startsWith("keel echo: bind: EADDRINUSE"), err.toString());
        }
    }

    @Test
    void shouldRefuseAnUnknownTransportAndSqpollWithoutIoUring() {
        assertEquals(2, run("echo", "--transport", "dpdk"));
        assertTrue(err.toString().startsWith("keel echo: --transport: unknown transport 'dpdk'"), err.toString());
        err.reset();
        assertEquals(2, run("echo", "--sqpoll", "2"));
        assertTrue(err.toString().contains("--sqpoll needs --transport io_uring"), err.toString());
    }

    @Test
    @Timeout(60)
    void shouldServeOverIoUringWhenAsked() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.keel.ffm.IoUring.support().available(),
                () -> "io_uring unavailable: " + dev.keel.ffm.IoUring.support().reason());
        assertServes("keel echo listening on 127\\.0\\.0\\.1:(\\d+) \\(1 loop, on CPU 0, io_uring\\)",
                "echo", "--port", "0", "--cpus", "0", "--transport", "io_uring");
    }

    @Test
    void shouldDescribeItsOptions() {
        assertEquals(0, run("echo", "--help"));
        assertTrue(out.toString().contains("--busy-poll"), out.toString());
    }

    @Test
    @Timeout(60)
    void shouldServeAndStopOnSigterm() throws Exception {
        assertServes("keel echo listening on 127\\.0\\.0\\.1:(\\d+) \\(1 loop, on CPU 0, epoll\\)",
                "echo", "--port", "0", "--cpus", "0");
    }

    @Test
    @Timeout(60)
    void shouldListenOnIpv6Loopback() throws Exception {
        assertServesAt("::1", "keel echo listening on \\[::1\\]:(\\d+) \\(1 loop, on CPU 0, epoll\\)",
                "echo", "--port", "0", "--cpus", "0", "--host", "::1");
    }

    @Test
    @Timeout(60)
    void shouldListenOnEveryIpv6AddressGivenInBrackets() throws Exception {
        assertServesAt("::1", "keel echo listening on \\[::\\]:(\\d+) \\(1 loop, on CPU 0, epoll\\)",
                "echo", "--port", "0", "--cpus", "0", "--host", "[::]");
    }

    private static void assertServes(String readyPattern, String... args) throws Exception {
        assertServesAt("127.0.0.1", readyPattern, args);
    }

    private static void assertServesAt(String connectTo, String readyPattern, String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(KeelModules.keelCommand());
        command.addAll(java.util.List.of(args));
        Process keel = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String ready = ProcessLines.firstLine(keel.getInputStream(), "keel", KeelProcess.READY_LIMIT);
            Matcher m = Pattern.compile(readyPattern).matcher(ready == null ? "" : ready);
            assertTrue(m.matches(), "ready line: " + ready);
            try (Socket s = new Socket(connectTo, Integer.parseInt(m.group(1)))) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("ping".getBytes());
                assertArrayEquals("ping".getBytes(), s.getInputStream().readNBytes(4));
                keel.destroy(); // SIGTERM
                assertTrue(keel.waitFor(20, TimeUnit.SECONDS), "keel echo stops on SIGTERM");
                assertEquals(-1, s.getInputStream().read(), "open connections are closed on the way out");
            }
        } finally {
            if (keel.isAlive()) {
                keel.destroyForcibly().waitFor();
            }
        }
    }
}
