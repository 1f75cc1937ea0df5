package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.io.stats.PrometheusText;
import dev.keel.io.testing.PrometheusTextCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /metrics} of a real file server, scraped over HTTP after traffic whose amounts the test knows. */
@Timeout(60)
class MetricsServerTest {
    @TempDir
    Path root;
    FileServer server;
    MetricsServer metrics;
    HttpClient client;

    @BeforeEach
    void setUp() throws IOException {
        Files.write(root.resolve("data.bin"), new byte[10_000]);
        server = FileServer.builder().root(root).loops(1).start();
        metrics = MetricsServer.start(InetAddress.getLoopbackAddress(), 0, server.group());
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void tearDown() {
        client.close();
        metrics.close();
        server.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Scrapes until the sample {@code key} has {@code expected} (the loop may be a pass behind), then returns all. */
    private Map<String, Double> scrapeUntil(String key, double expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Map<String, Double> samples;
        do {
            HttpResponse<String> r = get("/metrics");
            assertEquals(200, r.statusCode());
            assertEquals(PrometheusText.CONTENT_TYPE, r.headers().firstValue("content-type").orElseThrow());
            samples = PrometheusTextCheck.parse(r.body());
            if (samples.get(key) == expected) {
                return samples;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        assertEquals(expected, samples.get(key), key);
        return samples;
    }

    @Test
    void shouldReportTheRequestsAndBytesOfRealTrafficInPrometheusText() throws Exception {
        int requests = 10;
        long bytesIn = 0;
        long bytesOut = 0;
        for (int i = 0; i < requests; i++) {
            byte[] request = ("GET /data.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            try (Socket s = new Socket()) {
                s.connect(server.address(), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write(request);
                byte[] answer = s.getInputStream().readAllBytes(); // to EOF: the server closed
                assertTrue(answer.length > 10_000);
                bytesIn += request.length;
                bytesOut += answer.length;
            }
        }
        Map<String, Double> m = scrapeUntil("keel_connections_closed_total{loop=\"0\"}", requests);
        assertEquals(requests, m.get("keel_connections_accepted_total{loop=\"0\"}"));
        assertEquals(0.0, m.get("keel_connections_open{loop=\"0\"}"));
        assertEquals((double) bytesIn, m.get("keel_received_bytes_total{loop=\"0\"}"), "bytes in");
        assertEquals((double) bytesOut, m.get("keel_sent_bytes_total{loop=\"0\"}"), "bytes out, sendfile included");
        assertTrue(m.get("keel_syscalls_total{loop=\"0\"}") >= 3 * requests, "accept, read, send per request at least");
        double passes = m.get("keel_loop_passes_total{loop=\"0\"}");
        assertEquals(passes, m.get("keel_loop_pass_busy_seconds_count{loop=\"0\"}"), 2.0,
                "one busy-time sample per pass (the scrape may fall between the two reads)");
        assertTrue(m.get("keel_pool_buffers_capacity{loop=\"0\"}") > 0);
        assertTrue(m.get("keel_connections_capacity{loop=\"0\"}") > 0);
    }

    @Test
    void shouldAnswerOnlyGetAndHeadOfMetrics() throws Exception {
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/metricsx").statusCode());
        assertEquals(200, get("/metrics?name=x").statusCode());
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port()
                + "/metrics")).POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        HttpResponse<String> head = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port()
                + "/metrics")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    @Test
    void shouldServePipelinedScrapesOnOneConnection() throws Exception {
        try (RawHttp raw = new RawHttp(metrics.port())) {
            raw.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttp.Response first = raw.read();
            assertEquals(200, first.status());
            PrometheusTextCheck.parse(first.text());
            // Written by the file server's head writer: the same Server and Date fields as a file's answer.
            assertEquals("keel", first.header("server"));
            assertNotNull(first.header("date"));
            assertEquals(String.valueOf(first.body().length), first.header("content-length"));
            RawHttp.Response missing = raw.read();
            assertEquals(404, missing.status());
            assertEquals("text/html; charset=utf-8", missing.header("content-type"));
            assertEquals(new String(Status.page(404), java.nio.charset.StandardCharsets.US_ASCII), missing.text());
        }
    }
}
