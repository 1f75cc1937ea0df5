package dev.keel.cli;

import dev.keel.zerocopy.testing.ProcessLines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --metrics-port} of {@code keel echo} and {@code keel serve}, run as real processes and scraped. */
class MetricsOptionTest {
    private static final Pattern METRICS = Pattern.compile(".*; metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @TempDir
    Path root;

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    void shouldDescribeTheOptionInBothCommandsHelp() {
        assertEquals(0, run("echo", "--help"));
        assertEquals(0, run("serve", "--help"));
        String help = out.toString();
        assertEquals(2, help.split("--metrics-port P ", -1).length - 1, help);
        assertTrue(help.contains("--metrics-address A"), help);
    }

    @Test
    void shouldRefuseAnAddressWithoutAPortAndAPortOutOfRange() {
        assertEquals(2, run("echo", "--metrics-address", "127.0.0.1"));
        assertTrue(err.toString().contains("--metrics-address needs --metrics-port"), err.toString());
        err.reset();
        assertEquals(2, run("serve", "--metrics-port", "70000", "--root", root.toString()));
        assertTrue(err.toString().contains("--metrics-port must be between 0 and 65535"), err.toString());
    }

    @Test
    @Timeout(60)
    void shouldServeEchoMetricsThatCountTheTraffic() throws Exception {
        try (Keeper keel = Keeper.start("echo", "--port", "0", "--metrics-port", "0")) {
            Matcher m = Pattern.compile("keel echo listening on 127\\.0\\.0\\.1:(\\d+) .*").matcher(keel.ready);
            assertTrue(m.matches(), keel.ready);
            try (Socket s = new Socket("127.0.0.1", Integer.parseInt(m.group(1)))) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("ping".getBytes());
                assertArrayEquals("ping".getBytes(), s.getInputStream().readNBytes(4));
            }
            String text = keel.scrapeUntil("keel_connections_closed_total{loop=\"0\"} 1");
            assertTrue(text.contains("\nkeel_connections_accepted_total{loop=\"0\"} 1\n"), text);
            assertTrue(text.contains("\nkeel_received_bytes_total{loop=\"0\"} 4\n"), text);
            assertTrue(text.contains("\nkeel_sent_bytes_total{loop=\"0\"} 4\n"), text);
            assertTrue(text.contains("# TYPE keel_loop_pass_busy_seconds histogram"), text);
            assertEquals(404, keel.get("/").statusCode());
        }
    }

    @Test
    @Timeout(60)
    void shouldServeFileServerMetrics() throws Exception {
        Files.writeString(root.resolve("a.txt"), "hello\n");
        try (Keeper keel = Keeper.start("serve", "--port", "0", "--root", root.toString(), "--metrics-port", "0")) {
            Matcher m = Pattern.compile("keel serve: http://127\\.0\\.0\\.1:(\\d+)/ .*").matcher(keel.ready);
            assertTrue(m.matches(), keel.ready);
            HttpResponse<String> file = keel.client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + m.group(1) + "/a.txt")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("hello\n", file.body());
            String text = keel.scrapeUntil("keel_connections_accepted_total{loop=\"0\"} 1");
            assertTrue(text.contains("keel_sent_bytes_total{loop=\"0\"} "), text);
        }
    }

    @Test
    @Timeout(60)
    void shouldServeProxyMetricsWithTheUpstreamFailuresByReason() throws Exception {
        int closedPort;
        try (java.net.ServerSocket gone = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = gone.getLocalPort();
        }
        try (Keeper keel = Keeper.start("proxy", "--port", "0", "--to", "127.0.0.1:" + closedPort, "--metrics-port", "0")) {
            Matcher m = Pattern.compile("keel proxy: 127\\.0\\.0\\.1:(\\d+) -> .*").matcher(keel.ready);
            assertTrue(m.matches(), keel.ready);
            try (Socket s = new Socket("127.0.0.1", Integer.parseInt(m.group(1)))) {
                s.setSoTimeout(10_000);
                assertEquals(-1, s.getInputStream().read(), "the client is reset (or closed) when the upstream refuses");
            } catch (java.net.SocketException reset) {
                assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
            }
            String text = keel.scrapeUntil("keel_proxy_upstream_failures_total{loop=\"0\",reason=\"refused\"} 1");
            assertTrue(text.contains("\nkeel_proxy_sessions_opened_total{loop=\"0\"} 1\n"), text);
            assertTrue(text.contains("\nkeel_connects_attempted_total{loop=\"0\"} 1\n"), text);
            assertTrue(text.contains("\nkeel_connects_failed_total{loop=\"0\"} 1\n"), text);
            assertTrue(text.contains("# TYPE keel_proxy_resets_passed_total counter"), text);
            dev.keel.io.testing.PrometheusTextCheck.parse(text); // well formed, loops' and proxy's metrics together
        }
    }

    /** A keel process with a metrics endpoint, stopped with SIGTERM. */
    private static final class Keeper implements AutoCloseable {
        final Process process;
        final String ready;
        final int metricsPort;
        final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        private Keeper(Process process, String ready) {
            this.process = process;
            this.ready = ready;
            Matcher m = METRICS.matcher(ready == null ? "" : ready);
            assertTrue(m.matches(), "ready line names the metrics endpoint: " + ready);
            metricsPort = Integer.parseInt(m.group(1));
        }

        static Keeper start(String... args) throws Exception {
            List<String> command = new ArrayList<>(KeelModules.keelCommand());
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            try {
                String line = ProcessLines.firstLine(p.getInputStream(), "keel", KeelProcess.READY_LIMIT);
                return new Keeper(p, line);
            } catch (RuntimeException | Error e) {
                p.destroyForcibly().waitFor();
                throw e;
            }
        }

        HttpResponse<String> get(String path) throws Exception {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        }

        /** Scrapes /metrics until it holds {@code sample} as a whole line (the loop may lag a pass). */
        String scrapeUntil(String sample) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String text;
            do {
                HttpResponse<String> r = get("/metrics");
                assertEquals(200, r.statusCode());
                text = r.body();
                if (text.contains("\n" + sample + "\n")) {
                    return text;
                }
                Thread.sleep(20);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("no line '" + sample + "' in\n" + text);
        }

        @Override
        public void close() throws Exception {
            client.close();
            process.destroy(); // SIGTERM
            boolean stopped = process.waitFor(20, TimeUnit.SECONDS);
            if (!stopped) {
                process.destroyForcibly().waitFor();
            }
            assertTrue(stopped, "keel stops on SIGTERM");
        }
    }
}
