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
        assertRefused("--to HOST:PORT is required", "proxy", "--port", "0");
        assertRefused("--port is required", "proxy", "--to", "127.0.0.1:80");
        assertRefused("--to needs HOST:PORT", "proxy", "--port", "0", "--to", "localhost");
        assertRefused("--to: bad port", "proxy", "--port", "0", "--to", "localhost:http");
        assertRefused("out of range", "proxy", "--port", "0", "--to", "localhost:0");
        assertRefused("unknown host", "proxy", "--port", "0", "--to", "no.such.host.invalid:80");
        assertRefused("--loops must be between", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--loops", "-1");
        assertRefused("io-wq worker threads", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--transport", "io_uring");
        assertRefused("--transport: unknown transport", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--transport", "x");
        // The options every server command shares are parsed once (ServerSettings), alike for serve and proxy.
        assertRefused("--cpus names 2 CPUs for 3 loops", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--cpus", "0,1",
                "--loops", "3");
        assertRefused("--loops auto plans the CPUs itself", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--cpus", "0",
                "--loops", "auto");
        assertRefused("unknown address", "proxy", "--port", "0", "--to", "127.0.0.1:80", "--host", "no.such.host.invalid");
    }

    @Test
    @Timeout(60)
    void shouldForwardBothWaysUntilSigterm() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            CompletableFuture.runAsync(() -> {
                try (Socket s = upstream.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream()); // echo until the client's FIN
                    s.shutdownOutput();
                } catch (Exception ignored) {
                    // the test fails on its own side
                }
            });
            Process p = ServeCommandTest.KeelProcess.start("proxy", "--port", "0", "--to", "127.0.0.1:" + upstream.getLocalPort(),
                    "--transport", "auto");
            try {
                String ready = ProcessLines.firstLine(p.getInputStream(), "keel", KeelProcess.READY_LIMIT);
                Matcher m = Pattern.compile("keel proxy: 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:\\d+"
                                + " \\(splice, 1 loop, (on CPU \\d+|unpinned)\\)")
                        .matcher(ready == null ? "" : ready);
                assertTrue(m.matches(), "ready line: " + ready + "\nstderr: " + ServeCommandTest.KeelProcess.stderr(p));
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
