package dev.keel.zerocopy.http;

import dev.keel.io.testing.LoopAllocations;
import dev.keel.zerocopy.testing.RawHttp;
import dev.keel.zerocopy.testing.TestCertificates;
import dev.keel.zerocopy.tls.TlsContext;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Rule 3 on the TLS path: once warm, the loop thread allocates nothing per request over HTTPS
 * (records decrypted and encrypted in off-heap buffers, a body read with pread into the loop's
 * buffer), measured with the thread's allocated-bytes counter; the client is the JDK's TLS
 * socket on one kept-alive connection.
 */
class TlsAllocationTest {
    private static final int SMALL = 700;
    private static final int LARGE = 40_000;

    @TempDir
    Path root;
    @TempDir
    Path keys;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"small file from memory", "file by pread and encryption", "range", "not modified"})
    @Timeout(300)
    void shouldAllocateNothingOnTheLoopThreadPerHttpsRequest(String kind) throws Exception {
        Random random = new Random(7);
        byte[] small = new byte[SMALL];
        byte[] large = new byte[LARGE];
        random.nextBytes(small);
        random.nextBytes(large);
        Files.write(root.resolve("small.bin"), small);
        Files.write(root.resolve("large.bin"), large);
        Path cert = keys.resolve("cert.pem");
        TestCertificates.make(cert, keys.resolve("key.pem"), "localhost");
        try (TlsContext tls = TlsContext.open(cert, keys.resolve("key.pem"));
             FileServer server = FileServer.builder().root(root).tls(tls).fileCache(1024, Duration.ofMinutes(10))
                     .maxRequestsPerConnection(Integer.MAX_VALUE).start();
             SSLSocket socket = (SSLSocket) client(cert).getSocketFactory().createSocket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            OutputStream out = socket.getOutputStream();
            out.write("GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String etag = RawHttp.read(in, false).header("etag");
            String request = switch (kind) {
                case "small file from memory" -> "GET /small.bin HTTP/1.1\r\nHost: x\r\n\r\n";
                case "file by pread and encryption" -> "GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n";
                case "range" -> "GET /large.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-1099\r\n\r\n";
                case "not modified" -> "GET /large.bin HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\n\r\n";
                default -> throw new IllegalArgumentException(kind);
            };
            byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
            int expected = switch (kind) {
                case "small file from memory" -> SMALL;
                case "file by pread and encryption" -> LARGE;
                case "range" -> 1000;
                default -> 0;
            };
            LoopAllocations.assertNoneAllocated(server.group().loops().get(0).thread(), 2_000,
                    "HTTPS requests (" + kind + ")", i -> {
                        out.write(bytes);
                        out.flush();
                        RawHttp.Response r = RawHttp.read(in, false);
                        assertEquals(expected, r.body().length, r.statusLine());
                    });
        }
    }

    private static SSLContext client(Path cert) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream pem = Files.newInputStream(cert)) {
            trust.setCertificateEntry("keel", CertificateFactory.getInstance("X.509").generateCertificate(pem));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
