package dev.keel.cli;

import dev.keel.ffm.gen.LinuxConstants;
import dev.keel.zerocopy.testing.ProcessLines;
import dev.keel.zerocopy.testing.Subprocess;
import dev.keel.zerocopy.testing.Subprocess.Result;
import dev.keel.zerocopy.testing.TestCertificates;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel serve} over HTTPS as a user runs it, against curl and Python's ssl module: GET,
 * HEAD, Range, keep-alive and a large file checked byte for byte, TLS 1.2 and 1.3 forced, ALPN,
 * session resumption, HTTPS beside plain HTTP with --tls-port, SIGHUP reloading the certificate
 * for new connections while an old one goes on (also when keel was started with SIGHUP
 * ignored, as under nohup), the kTLS probe said once at start, and plain HTTP, a stalled
 * handshake and a refused certificate counted on the metrics endpoint.
 *
 * <p>No step can hang the build: client programs run under a time limit and are killed past
 * it ({@link Subprocess}), lines from python and keel are awaited with a limit
 * ({@link ProcessLines}), sockets have read timeouts.
 */
@Timeout(300)
class ServeTlsTest {
    private static final Pattern TLS_URL = Pattern.compile("; https://\\S+:(\\d+)/");
    private static final Pattern METRICS = Pattern.compile("metrics on http://\\S+:(\\d+)/metrics");
    /** The longest a client program (curl, python) may run before the test fails. */
    private static final Duration CLIENT_LIMIT = Duration.ofSeconds(150);
    /** The longest the test waits for one line from its python client. */
    private static final Duration LINE_LIMIT = Duration.ofSeconds(60);
    /** Python clients give up on a socket that stays silent this long (seconds). */
    private static final String PY_TIMEOUT = "socket.setdefaulttimeout(60)";

    @TempDir
    Path root;
    @TempDir
    Path keys;
    private Path cert;
    private Path key;
    private byte[] big;

    @BeforeEach
    void files() throws Exception {
        cert = keys.resolve("cert.pem");
        key = keys.resolve("key.pem");
        makeCertificate(cert, key, "first");
        big = new byte[3 * 1024 * 1024 + 5];
        new Random(9).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        Files.writeString(root.resolve("index.html"), "<p>home</p>\n");
    }

    static void makeCertificate(Path cert, Path key, String cn) throws Exception {
        TestCertificates.make(cert, key, cn);
    }

    private KeelProcess keel(String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("serve", "--root", root.toString(), "--port", "0",
                "--tls-cert", cert.toString(), "--tls-key", key.toString()));
        args.addAll(List.of(extra));
        return KeelProcess.start(args.toArray(String[]::new));
    }

    private Result curl(int port, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "120", "--cacert", cert.toString(),
                "--resolve", "localhost:" + port + ":127.0.0.1"));
        cmd.addAll(List.of(args));
        return Subprocess.run(CLIENT_LIMIT, cmd);
    }

    private static String python(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        Result r = Subprocess.run(CLIENT_LIMIT, cmd);
        assertEquals(0, r.exit(), r.utf8() + r.err());
        return r.utf8();
    }

    @Test
    void servesHttpsToCurlAndPythonWithResumptionAndSaysKernelTlsOnce() throws Exception {
        try (KeelProcess k = keel()) {
            assertTrue(k.readyLine.contains("keel serve: https://127.0.0.1:"), k.readyLine);
            assertTrue(k.readyLine.contains("kernel TLS unavailable") || k.readyLine.contains("kernel TLS available"),
                    k.readyLine);
            assertEquals(1, k.readyLine.split("kernel TLS", -1).length - 1, "the probe is said once: " + k.readyLine);
            String url = "https://localhost:" + k.port;
            Result r13 = curl(k.port, "--tlsv1.3", "-v", url + "/big.bin");
            assertEquals(0, r13.exit(), r13.err());
            assertArrayEquals(big, r13.out());
            assertTrue(r13.err().contains("SSL connection using TLSv1.3"), r13.err());
            assertTrue(r13.err().contains("ALPN: server accepted http/1.1"), r13.err());
            Result r12 = curl(k.port, "--tlsv1.2", "--tls-max", "1.2", "-v", url + "/big.bin");
            assertArrayEquals(big, r12.out());
            assertTrue(r12.err().contains("SSL connection using TLSv1.2"), r12.err());
            Result head = curl(k.port, "-I", url + "/big.bin");
            assertTrue(head.text().startsWith("HTTP/1.1 200"), head.text());
            assertTrue(head.text().contains("Content-Length: " + big.length), head.text());
            assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 1_000_100),
                    curl(k.port, "-r", "1000000-1000099", url + "/big.bin").out());
            Result both = curl(k.port, "-w", "%{num_connects}\\n", "-o", "/dev/null", "-o", "/dev/null",
                    url + "/index.html", url + "/big.bin");
            assertEquals("1\n0\n", both.text(), "keep-alive: one connection for two requests");

            String resumed = python("""
                    import socket, ssl, sys, http.client
                    %s
                    port, ca = int(sys.argv[1]), sys.argv[2]
                    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
                        ctx = ssl.create_default_context(cafile=ca)
                        ctx.maximum_version = version
                        ctx.set_alpn_protocols(['http/1.1'])
                        session = None
                        for i in range(2):
                            s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)),
                                                server_hostname='localhost', session=session)
                            c = http.client.HTTPSConnection('localhost', port, context=ctx)
                            c.sock = s
                            c.request('GET', '/index.html')
                            r = c.getresponse()
                            body = r.read()
                            print(s.version(), s.selected_alpn_protocol(), s.session_reused, r.status, body.decode().strip())
                            session = s.session
                            c.close()
                    """.formatted(PY_TIMEOUT), String.valueOf(k.port), cert.toString());
            assertEquals("""
                    TLSv1.3 http/1.1 False 200 <p>home</p>
                    TLSv1.3 http/1.1 True 200 <p>home</p>
                    TLSv1.2 http/1.1 False 200 <p>home</p>
                    TLSv1.2 http/1.1 True 200 <p>home</p>
                    """, resumed);
        }
    }

    @Test
    void httpsBesidePlainHttpWithTlsPort() throws Exception {
        try (KeelProcess k = keel("--tls-port", "0")) {
            Matcher m = TLS_URL.matcher(k.readyLine);
            assertTrue(m.find(), k.readyLine);
            int tlsPort = Integer.parseInt(m.group(1));
            assertTrue(k.readyLine.contains("keel serve: http://127.0.0.1:" + k.port + "/"), k.readyLine);
            HttpClient client = HttpClient.newHttpClient();
            HttpResponse<byte[]> plain = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + k.port + "/big.bin")).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertArrayEquals(big, plain.body());
            client.close();
            assertArrayEquals(big, curl(tlsPort, "https://localhost:" + tlsPort + "/big.bin").out());
        }
    }

    @Test
    void sighupReloadsTheCertificateForNewConnectionsWhileAnOldOneGoesOn() throws Exception {
        try (KeelProcess k = keel()) {
            reloadsOnSighup(k);
        }
    }

    /**
     * Started as nohup starts it (SIGHUP ignored, inherited across exec), keel still reloads on
     * SIGHUP: the JVM keeps an inherited SIG_IGN and never calls a handler for it, so keel takes
     * the signal back and says so. Before it did, this reload never came and the test waited.
     */
    @Test
    void sighupReloadsEvenWhenStartedWithSighupIgnored() throws Exception {
        Result premise = Subprocess.run(CLIENT_LIMIT, "bash", "-c", "trap '' HUP && exec grep SigIgn /proc/self/status");
        long ignored = Long.parseLong(premise.text().strip().split("\\s+")[1], 16);
        assertEquals(1L << (LinuxConstants.SIGHUP - 1), ignored & 1L << (LinuxConstants.SIGHUP - 1),
                "a program started this way has SIGHUP ignored: " + premise.text());
        List<String> args = new ArrayList<>(List.of("serve", "--root", root.toString(), "--port", "0",
                "--tls-cert", cert.toString(), "--tls-key", key.toString()));
        try (KeelProcess k = KeelProcess.startIgnoringSighup(args.toArray(String[]::new))) {
            assertTrue(k.readyLine.contains("SIGHUP was ignored by the parent process"), k.readyLine);
            reloadsOnSighup(k);
        }
    }

    private void reloadsOnSighup(KeelProcess k) throws Exception {
        Path second = keys.resolve("second.pem");
        Path secondKey = keys.resolve("second-key.pem");
        makeCertificate(second, secondKey, "second");
        Path both = keys.resolve("both.pem");
        Files.writeString(both, Files.readString(cert) + Files.readString(second));
        String script = """
                import socket, ssl, sys
                %s
                port = int(sys.argv[1])
                ctx = ssl.create_default_context(cafile=sys.argv[2])
                def open_():
                    return ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost')
                def ask(s):
                    s.sendall(b'GET /index.html HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
                    data = b''
                    while not data.endswith(b'<p>home</p>\\n'):
                        chunk = s.recv(4096)
                        if not chunk:
                            raise EOFError('the server closed after %%r' %% data)
                        data += chunk
                    return data.split(b'\\r\\n')[0].decode()
                def cn(s):
                    return dict(x[0] for x in s.getpeercert()['subject'])['commonName']
                a = open_()
                print('old', cn(a), ask(a), flush=True)
                sys.stdin.readline()
                b = open_()
                print('new', cn(b), ask(b), flush=True)
                print('old again', cn(a), ask(a), flush=True)
                """.formatted(PY_TIMEOUT);
        Process p = new ProcessBuilder("python3", "-c", script, String.valueOf(k.port), both.toString())
                .redirectErrorStream(true).start();
        try (Writer in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            ProcessLines out = new ProcessLines(p.getInputStream(), "python");
            assertEquals("old first HTTP/1.1 200 OK", out.next(LINE_LIMIT));
            Files.copy(second, cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(secondKey, key, StandardCopyOption.REPLACE_EXISTING);
            assertEquals(0, Subprocess.run(CLIENT_LIMIT, "kill", "-HUP", String.valueOf(k.pid())).exit());
            String reloaded = k.awaitLine("SIGHUP");
            assertTrue(reloaded.contains("certificate reloaded"), reloaded);
            in.write("go\n");
            in.flush();
            assertEquals("new second HTTP/1.1 200 OK", out.next(LINE_LIMIT));
            assertEquals("old again first HTTP/1.1 200 OK", out.next(LINE_LIMIT));
            assertTrue(p.waitFor(LINE_LIMIT.toSeconds(), TimeUnit.SECONDS), "python ends after its last line");
        } finally {
            p.destroyForcibly();
        }
        assertTrue(k.process.isAlive(), "SIGHUP reloads; it does not stop the server");
    }

    @Test
    void failuresAreClosedAndCountedOnTheMetricsEndpoint() throws Exception {
        try (KeelProcess k = keel("--header-timeout", "1", "--metrics-port", "0")) {
            Matcher m = METRICS.matcher(k.readyLine);
            assertTrue(m.find(), k.readyLine);
            int metricsPort = Integer.parseInt(m.group(1));
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", k.port), 60_000);
                s.setSoTimeout(60_000);
                OutputStream o = s.getOutputStream();
                o.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 400 ") && answer.contains("HTTPS port"), answer);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", k.port), 60_000);
                s.setSoTimeout(60_000);
                s.getOutputStream().write(new byte[] {22, 3, 1, 0, (byte) 200});
                InputStream in = s.getInputStream();
                try {
                    assertEquals(-1, in.read(), "a stalled handshake is closed by the header timeout");
                } catch (java.net.SocketException reset) {
                    // aborted: a reset is a close too
                }
            }
            Path other = keys.resolve("other.pem");
            makeCertificate(other, keys.resolve("other-key.pem"), "other");
            Result refused = curl(k.port, "--cacert", other.toString(), "https://localhost:" + k.port + "/");
            assertTrue(refused.exit() != 0, refused.err());
            String metrics = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            HttpClient client = HttpClient.newHttpClient();
            while (System.nanoTime() < deadline) {
                metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString()).body();
                if (metrics.contains("keel_tls_failures_total{reason=\"handshake\"} 1")) {
                    break;
                }
                Thread.sleep(20);
            }
            client.close();
            assertTrue(metrics.contains("keel_tls_failures_total{reason=\"not_tls\"} 1"), metrics);
            assertTrue(metrics.contains("keel_tls_failures_total{reason=\"timeout\"} 1"), metrics);
            assertTrue(metrics.contains("keel_tls_failures_total{reason=\"handshake\"} 1"), metrics);
            assertTrue(metrics.contains("keel_tls_handshakes_total{version=\"1.3\"} 0"), metrics);
            assertArrayEquals(big, curl(k.port, "https://localhost:" + k.port + "/big.bin").out(),
                    "the server goes on serving after all that");
        }
    }
}
