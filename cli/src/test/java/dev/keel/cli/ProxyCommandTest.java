package dev.keel.cli;

import dev.keel.zerocopy.testing.ProcessLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code keel proxy}: refused arguments, and a child process forwarding to an echo upstream. */
class ProxyCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private void assertRefused(String reason, String... args) {
        out.reset();
        err.reset();
        assertEquals(2, Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true)));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.startsWith("keel proxy: ") && e.contains(reason), e);
    }

    @Test
    void shouldRefuseBadArgumentsWithOneLineAndStatusTwo() {
        assertRefused("--to HOST:PORT (or --upstream HOST:PORT) is required", "proxy", "--port", "0");
        assertRefused("--port is required", "proxy", "--to", "127.0.0.1:80");
        assertRefused("--to needs HOST:PORT", "proxy", "--port", "0", "--to", "localhost");
        assertRefused("--to: bad port", "proxy", "--port", "0", "--to", "localhost:http");
        assertRefused("out of range", "proxy", "--port", "0", "--to", "localhost:0");
        assertRefused("unknown host", "proxy", "--port", "0", "--to", "no.such.host.invalid:80");
        assertRefused("in brackets", "proxy", "--port", "0", "--to", "::1:80");
        assertRefused("give --to or --upstream, not both", "proxy", "--port", "0", "--to", "127.0.0.1:80",
                "--upstream", "127.0.0.1:81");
        assertRefused("give no --host or --port with it", "proxy", "--listen", "127.0.0.1:0", "--port", "0",
                "--upstream", "127.0.0.1:80");
        assertRefused("--listen: port 70000 is out of range 0-65535", "proxy", "--listen", "127.0.0.1:70000",
                "--upstream", "127.0.0.1:80");
        assertRefused("--upstream needs HOST:PORT", "proxy", "--listen", "127.0.0.1:0", "--upstream", "80");
        assertRefused("--loops must be between", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--loops", "-1");
        assertRefused("--transport: unknown transport", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--transport", "x");
        assertRefused("--idle-timeout must be between", "proxy", "--port", "0", "--to", "127.0.0.1:80",
                "--idle-timeout", "0");
        assertRefused("--connect-timeout must be between", "proxy", "--port", "0", "--to", "127.0.0.1:80",
                "--connect-timeout", "0");
        assertRefused("--sqpoll needs --transport io_uring", "proxy", "--port", "0", "--to", "127.0.0.1:80",
                "--sqpoll", "2");
        assertRefused("--pipe-size is gone", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--pipe-size", "65536");
        assertRefused("--metrics-address needs --metrics-port", "proxy", "--port", "0", "--to", "127.0.0.1:80",
                "--metrics-address", "127.0.0.1");
        // The options every server command shares are parsed once (ServerSettings), alike for serve and proxy.
        assertRefused("--cpus names 2 CPUs for 3 loops", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--cpus", "0,1",
                "--loops", "3");
        assertRefused("--loops auto plans the CPUs itself", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--cpus", "0",
                "--loops", "auto");
        assertRefused("unknown address", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--host", "no.such.host.invalid");
    }

    @Test
    void shouldDescribeEveryOptionInItsHelp() {
        assertEquals(0, Keel.standard().run(new String[] {"proxy", "--help"}, new PrintStream(out, true),
                new PrintStream(err, true)));
        String help = out.toString(StandardCharsets.UTF_8);
        for (String option : List.of("--port", "--to", "--host", "--listen", "--upstream", "--loops", "--cpus",
                "--transport", "--idle-timeout", "--connect-timeout", "--busy-poll", "--sqpoll", "--metrics-port",
                "--metrics-address")) {
            assertTrue(help.contains("  " + option + " "), option + " in\n" + help);
        }
    }

    @Test
    @Timeout(60)
    void shouldForwardBothWaysUntilSigterm() throws Exception {
        forward("--port", "0", "--transport", "auto", "--to");
    }

    @Test
    @Timeout(60)
    void shouldForwardWithListenAndUpstreamOnEitherTransport() throws Exception {
        forward("--listen", "127.0.0.1:0", "--loops", "2", "--transport", "auto", "--idle-timeout", "30",
                "--upstream");
    }

    /** Runs {@code keel proxy ARGS 127.0.0.1:UPSTREAM} in front of an echo upstream, sends 3 MiB through, stops it. */
    private static void forward(String... args) throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            CompletableFuture.runAsync(() -> {
                try (Socket s = upstream.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream()); // echo until the client's FIN
                    s.shutdownOutput();
                } catch (Exception ignored) {
                    // the test fails on its own side
                }
            });
            List<String> command = new java.util.ArrayList<>(List.of("proxy"));
            command.addAll(List.of(args));
            command.add("127.0.0.1:" + upstream.getLocalPort());
            Process p = ServeCommandTest.KeelProcess.start(command.toArray(String[]::new));
            try {
                String ready = ProcessLines.firstLine(p.getInputStream(), "keel", KeelProcess.READY_LIMIT);
                Matcher m = Pattern.compile("keel proxy: 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:" + upstream.getLocalPort()
                                + " \\((epoll|io_uring), (\\d) loops?, (on CPUs? [\\d,]+|unpinned).*\\)")
                        .matcher(ready == null ? "" : ready);
                assertTrue(m.matches(), "ready line: " + ready + "\nstderr: " + ServeCommandTest.KeelProcess.stderr(p));
                assertEquals(command.contains("--loops") ? "2" : "1", m.group(3));
                byte[] payload = new byte[3 * 1024 * 1024];
                new Random(9).nextBytes(payload);
                try (Socket s = new Socket("127.0.0.1", Integer.parseInt(m.group(1)))) {
                    s.setSoTimeout(20_000);
                    CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                        try {
                            return s.getInputStream().readAllBytes();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    s.getOutputStream().write(payload);
                    s.shutdownOutput();
                    byte[] echoed = back.get(30, TimeUnit.SECONDS);
                    assertEquals(payload.length, echoed.length);
                    assertArrayEquals(payload, echoed, "first difference at " + Arrays.mismatch(payload, echoed));
                }
                p.destroy();
                assertTrue(p.waitFor(20, TimeUnit.SECONDS));
                String e = ServeCommandTest.KeelProcess.stderr(p);
                assertTrue(e.contains("keel proxy: stopped"), e);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
