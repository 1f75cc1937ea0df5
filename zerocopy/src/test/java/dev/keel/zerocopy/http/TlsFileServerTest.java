package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.Subprocess;
import dev.keel.zerocopy.testing.Subprocess.Result;
import dev.keel.zerocopy.testing.TestCertificates;
import dev.keel.zerocopy.tls.TlsContext;
import dev.keel.zerocopy.tls.TlsFailure;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file server over TLS against curl and Python's ssl module: GET, HEAD, Range, multipart,
 * 304, keep-alive, pipelining, a large file byte for byte, TLS 1.2 and 1.3 forced, ALPN; plain
 * HTTP on the port, a stalled handshake and a refused certificate closed and counted. Clients
 * run under a time limit ({@link Subprocess}) and sockets with read timeouts: a failure fails,
 * it never hangs the build.
 */
@Timeout(300)
class TlsFileServerTest {
    /** The longest a client program may run before the test fails (300 pipelined requests on a loaded machine). */
    private static final Duration CLIENT_LIMIT = Duration.ofSeconds(240);
    @TempDir
    Path root;
    @TempDir
    Path keys;
    private Path cert;
    private TlsContext tls;
    private FileServer server;
    private byte[] big;

    @BeforeEach
    void setUp() throws Exception {
        cert = keys.resolve("cert.pem");
        TestCertificates.make(cert, keys.resolve("key.pem"), "localhost");
        tls = TlsContext.open(cert, keys.resolve("key.pem"));
        Files.writeString(root.resolve("index.html"), "<p>home</p>\n");
        big = new byte[5 * 1024 * 1024 + 17];
        new Random(3).nextBytes(big);
        Files.write(root.resolve("big.bin"), big);
        byte[] mid = new byte[100_000];
        new Random(4).nextBytes(mid);
        Files.write(root.resolve("mid.bin"), mid);
        server = FileServer.builder().root(root).loops(1).transport(transport()).tls(tls)
                .headerTimeout(Duration.ofSeconds(2)).start();
        assertEquals(transport(), server.transport());
    }

    /** The transport under test; a subclass runs the suite on io_uring. */
    dev.keel.io.Transport transport() {
        return dev.keel.io.Transport.EPOLL;
    }

    @AfterEach
    void tearDown() {
        server.close();
        tls.close();
    }

    private String url(String path) {
        return "https://localhost:" + server.port() + path;
    }

    private Result curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "120", "--cacert", cert.toString(),
                "--resolve", "localhost:" + server.port() + ":127.0.0.1"));
        cmd.addAll(List.of(args));
        return Subprocess.run(CLIENT_LIMIT, cmd);
    }

    /** python3 -c {@code script} ARGS to its end within {@link #CLIENT_LIMIT}: what it printed (and its errors). */
    private static String python(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        Result r = Subprocess.run(CLIENT_LIMIT, cmd);
        return r.utf8() + r.err();
    }

    @Test
    void curlGetsALargeFileByteForByteOverTls13AndTls12() throws Exception {
        Result r13 = curl("--tlsv1.3", "-v", url("/big.bin"));
        assertEquals(0, r13.exit(), r13.err());
        assertArrayEquals(big, r13.out());
        assertTrue(r13.err().contains("TLSv1.3"), r13.err());
        assertTrue(r13.err().contains("ALPN: server accepted http/1.1"), r13.err());
        Result r12 = curl("--tlsv1.2", "--tls-max", "1.2", "-v", url("/big.bin"));
        assertEquals(0, r12.exit(), r12.err());
        assertArrayEquals(big, r12.out());
        assertTrue(r12.err().contains("TLSv1.2"), r12.err());
        assertEquals(1, tls.stats().byVersion()[0]);
        assertEquals(1, tls.stats().byVersion()[1]);
    }

    @Test
    void curlHeadRangeAndKeepAlive() throws Exception {
        Result head = curl("-I", url("/big.bin"));
        assertTrue(head.text().startsWith("HTTP/1.1 200"), head.text());
        assertTrue(head.text().contains("Content-Length: " + big.length), head.text());
        Result range = curl("-r", "1000-1999", url("/big.bin"));
        assertArrayEquals(Arrays.copyOfRange(big, 1000, 2000), range.out());
        Result multi = curl("-r", "0-9,100-109", "-i", url("/big.bin"));
        assertTrue(multi.text().contains("multipart/byteranges"), multi.text());
        // Two URLs, one connection: curl reuses it when the server keeps it alive.
        Result both = curl("-w", "%{num_connects}\\n", "-o", "/dev/null", "-o", "/dev/null",
                url("/index.html"), url("/mid.bin"));
        assertEquals("1\n0\n", both.text(), both.err());
        assertEquals(1, tls.stats().handshakes() - 3, "one handshake for the two requests");
    }

    @Test
    void pythonPipelinesThreeRequestsAndGets304() throws Exception {
        String script = """
                import socket, ssl, sys, http.client
                socket.setdefaulttimeout(60)
                port, ca = int(sys.argv[1]), sys.argv[2]
                ctx = ssl.create_default_context(cafile=ca)
                s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost')
                s.sendall(b''.join(b'GET /%s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % p for p in (b'index.html', b'mid.bin', b'index.html')))
                class Shared:  # one buffered reader for the three answers: HTTPResponse closes its fp at the end
                    def __init__(self, f): self.f = f
                    def __getattr__(self, name): return getattr(self.f, name)
                    def close(self): pass
                f = Shared(s.makefile('rb'))
                for i in range(3):
                    r = http.client.HTTPResponse(s)
                    r.fp = f
                    r.begin()
                    body = r.read()
                    print(r.status, len(body))
                c = http.client.HTTPSConnection('localhost', port, context=ctx)
                c.request('GET', '/index.html')
                r = c.getresponse(); r.read()
                etag = r.getheader('ETag')
                c.request('GET', '/index.html', headers={'If-None-Match': etag})
                r = c.getresponse(); r.read()
                print(r.status)
                """;
        String out = python(script, String.valueOf(server.port()), cert.toString());
        assertEquals("200 12\n200 100000\n200 12\n304\n", out);
    }

    @Test
    void aLongPipelineIsAnsweredInOrderWhileRecordsWaitInsideOpenSsl() throws Exception {
        // 300 requests written at once by one thread while another reads: the server answers one
        // at a time, keeping the records it has not decrypted yet inside OpenSSL (reading paused),
        // and resumes after each answer.
        String script = """
                import socket, ssl, sys, threading, hashlib
                socket.setdefaulttimeout(60)
                port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
                ctx = ssl.create_default_context(cafile=ca)
                s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost')
                names = [b'mid.bin' if i % 3 else b'index.html' for i in range(n)]
                def send():
                    s.sendall(b''.join(b'GET /%s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % p for p in names))
                t = threading.Thread(target=send)
                t.start()
                f = s.makefile('rb')
                sizes = []
                for i in range(n):
                    status = f.readline()
                    length = 0
                    while True:
                        line = f.readline()
                        if line == b'\\r\\n':
                            break
                        if line.lower().startswith(b'content-length:'):
                            length = int(line.split(b':')[1])
                    f.read(length)
                    sizes.append(length)
                t.join()
                print(len(sizes), sum(sizes))
                """;
        int n = 300;
        String out = python(script, String.valueOf(server.port()), cert.toString(), String.valueOf(n));
        long mids = n - (n + 2) / 3;
        assertEquals(n + " " + (mids * 100_000 + (n - mids) * 12) + "\n", out);
    }

    @Test
    void plainHttpAStalledHandshakeAndARefusedCertificateAreClosedAndCounted() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 60_000);
            s.setSoTimeout(60_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 60_000);
            s.setSoTimeout(60_000);
            s.getOutputStream().write(new byte[] {22, 3, 1, 0, (byte) 200});
            InputStream in = s.getInputStream();
            try {
                assertEquals(-1, in.read());
            } catch (java.net.SocketException reset) {
                // aborted: a reset is a close too
            }
        }
        Path other = keys.resolve("other.pem");
        TestCertificates.make(other, keys.resolve("other-key.pem"), "other");
        Result refused = curl("--cacert", other.toString(), url("/index.html"));
        assertTrue(refused.exit() != 0, "curl must refuse a certificate it cannot verify");
        waitFor(() -> tls.stats().failures(TlsFailure.NOT_TLS) == 1 && tls.stats().failures(TlsFailure.TIMEOUT) == 1
                && tls.stats().failures(TlsFailure.HANDSHAKE) == 1);
        assertEquals(0, tls.stats().handshakes());
        Result fine = curl(url("/index.html"));
        assertEquals("<p>home</p>\n", fine.text(), "the loop serves on after all that");
    }

    @Test
    void aContextTryingKernelTlsServesEveryByteInUserSpace() throws Exception {
        try (TlsContext trying = TlsContext.openTryingKernelTls(cert, keys.resolve("key.pem"));
             FileServer k = FileServer.builder().root(root).loops(1).transport(transport()).tls(trying).start()) {
            assertTrue(trying.attemptsKernelTls());
            for (String version : new String[] {"--tlsv1.3", "--tlsv1.2"}) {
                List<String> cmd = List.of("curl", "-sS", "--max-time", "120", version, "--cacert", cert.toString(), "--resolve",
                        "localhost:" + k.port() + ":127.0.0.1", "https://localhost:" + k.port() + "/big.bin",
                        "https://localhost:" + k.port() + "/index.html");
                Result r = Subprocess.run(CLIENT_LIMIT, cmd);
                assertEquals(0, r.exit(), r.err());
                byte[] out = r.out();
                assertArrayEquals(big, Arrays.copyOf(out, big.length), version);
                assertEquals("<p>home</p>\n", new String(out, big.length, out.length - big.length, StandardCharsets.US_ASCII));
            }
            // Each connection on epoll borrows its socket (Connection.lendForKernelTls): OpenSSL
            // writes the handshake to it and offers the keys to the kernel, which has no tls
            // module here, so both connections fall back to user space and say so. io_uring with
            // direct descriptors has no descriptor to lend: its connections do not try.
            long tried = transport() == dev.keel.io.Transport.EPOLL ? 2 : 0;
            assertArrayEquals(new long[] {0, tried}, trying.stats().kernelTlsAttempts(),
                    "kernel TLS attempts: taken by the kernel, fallen back to user space");
        }
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached");
            Thread.sleep(10);
        }
    }
}
