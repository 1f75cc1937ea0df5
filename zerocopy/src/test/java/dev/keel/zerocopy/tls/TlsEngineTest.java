package dev.keel.zerocopy.tls;

import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.zerocopy.testing.ProcessLines;
import dev.keel.zerocopy.testing.Subprocess;
import dev.keel.zerocopy.testing.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * keel's TLS engine on a real loop against Python's ssl module and raw sockets: TLS 1.2 and
 * 1.3, ALPN, session resumption, plain HTTP on the TLS port, a stalled handshake, a client that
 * refuses the certificate, and a certificate reload seen by new connections only.
 */
class TlsEngineTest {
    /** The longest a python client may run, or take to print a line, before the test fails. */
    private static final Duration CLIENT_LIMIT = Duration.ofSeconds(120);
    @TempDir
    Path dir;
    private TlsContext context;
    private EventLoopGroup group;
    private Path cert;

    static void makeCertificate(Path cert, Path key, String cn) throws Exception {
        TestCertificates.make(cert, key, cn);
    }

    @BeforeEach
    void start() throws Exception {
        cert = dir.resolve("cert.pem");
        makeCertificate(cert, dir.resolve("key.pem"), "first");
        context = TlsContext.open(cert, dir.resolve("key.pem"));
        group = EventLoopGroup.builder().loops(1).transport(Transport.EPOLL).noReservations()
                .options(LoopOptions.builder().build())
                .handler(new HelloOverTls(context, Duration.ofSeconds(1))).start();
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
        if (context != null) {
            context.close();
        }
    }

    private List<String> python(String script, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script, String.valueOf(group.port())));
        cmd.addAll(List.of(args));
        Subprocess.Result r = Subprocess.run(CLIENT_LIMIT, cmd);
        assertEquals(0, r.exit(), r.utf8() + r.err());
        return r.utf8().lines().toList();
    }

    private static final String CLIENT = """
            import socket, ssl, sys
            socket.setdefaulttimeout(60)
            port, cafile, version = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            ctx = ssl.create_default_context(cafile=cafile)
            v = ssl.TLSVersion.TLSv1_2 if version == '1.2' else ssl.TLSVersion.TLSv1_3
            ctx.minimum_version = v
            ctx.maximum_version = v
            ctx.set_alpn_protocols(['h2', 'http/1.1'])
            def get(session=None):
                s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost',
                                    session=session)
                s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /2 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
                data = b''
                while data.count(b'resumed=') < 2:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                print(s.version(), s.selected_alpn_protocol(), s.session_reused)
                print(data.decode().split('\\r\\n\\r\\n')[1].split('HTTP/1.1')[0].strip())
                sess = s.session
                s.close()
                return sess
            sess = get()
            get(sess)
            """;

    @Test
    void tls13WithAlpnAndResumption() throws Exception {
        List<String> out = python(CLIENT, cert.toString(), "1.3");
        assertEquals("TLSv1.3 http/1.1 False", out.get(0), String.join("\n", out));
        assertEquals("version=304 alpn=http/1.1 resumed=false", out.get(1));
        assertEquals("TLSv1.3 http/1.1 True", out.get(2), String.join("\n", out));
        assertEquals("version=304 alpn=http/1.1 resumed=true", out.get(3));
        assertEquals(2, context.stats().handshakes());
        assertEquals(1, context.stats().resumed());
    }

    @Test
    void tls12WithAlpnAndResumption() throws Exception {
        List<String> out = python(CLIENT, cert.toString(), "1.2");
        assertEquals("TLSv1.2 http/1.1 False", out.get(0), String.join("\n", out));
        assertEquals("version=303 alpn=http/1.1 resumed=false", out.get(1));
        assertEquals("TLSv1.2 http/1.1 True", out.get(2), String.join("\n", out));
        assertEquals(1, context.stats().resumed());
        assertEquals(2, context.stats().byVersion()[0]);
    }

    @Test
    void plainHttpOnTheTlsPortIsAnsweredAndClosed() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", group.port()), 30_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            assertTrue(answer.contains("plain HTTP request was sent to an HTTPS port"), answer);
        }
        waitFor(() -> context.stats().failures(TlsFailure.NOT_TLS) == 1);
        assertEquals(0, context.stats().failures(TlsFailure.HANDSHAKE));
    }

    @Test
    void aStalledHandshakeIsClosedAndCounted() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", group.port()), 30_000);
            s.setSoTimeout(30_000);
            // The first bytes of a ClientHello record header, then nothing more.
            s.getOutputStream().write(new byte[] {22, 3, 1, 0, (byte) 200, 1});
            InputStream in = s.getInputStream();
            try {
                assertEquals(-1, in.read(), "the server closes a stalled handshake");
            } catch (java.net.SocketException reset) {
                // an abort may reach the client as a reset: closed either way
            }
        }
        waitFor(() -> context.stats().failures(TlsFailure.TIMEOUT) == 1);
        assertEquals(0, context.stats().handshakes());
    }

    @Test
    void aClientRefusingTheCertificateIsCountedAsAFailedHandshake() throws Exception {
        Path otherCa = dir.resolve("other.pem");
        makeCertificate(otherCa, dir.resolve("other-key.pem"), "other");
        List<String> out = python("""
                import socket, ssl, sys
                socket.setdefaulttimeout(60)
                ctx = ssl.create_default_context(cafile=sys.argv[2])
                try:
                    ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))), server_hostname='localhost')
                    print('accepted')
                except ssl.SSLCertVerificationError as e:
                    print('refused', e.verify_message)
                """, otherCa.toString());
        assertTrue(out.get(0).startsWith("refused"), out.toString());
        waitFor(() -> context.stats().failures(TlsFailure.HANDSHAKE) == 1);
    }

    @Test
    void aReloadedCertificateIsSeenByNewConnectionsWhileOldOnesGoOn() throws Exception {
        Path both = dir.resolve("both.pem");
        Path second = dir.resolve("second.pem");
        makeCertificate(second, dir.resolve("second-key.pem"), "second");
        Files.writeString(both, Files.readString(cert) + Files.readString(second));
        String script = """
                import socket, ssl, sys
                socket.setdefaulttimeout(60)
                port = int(sys.argv[1])
                ctx = ssl.create_default_context(cafile=sys.argv[2])
                def open_():
                    return ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost')
                def ask(s):
                    s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
                    data = b''
                    while b'resumed=' not in data:
                        chunk = s.recv(4096)
                        if not chunk:
                            raise EOFError('the server closed after %r' % data)
                        data += chunk
                    return data.split(b'\\r\\n\\r\\n')[0].split(b'\\r\\n')[0].decode()
                def cn(s):
                    return dict(x[0] for x in s.getpeercert()['subject'])['commonName']
                a = open_()
                print('old', cn(a), ask(a), flush=True)
                sys.stdin.readline()
                b = open_()
                print('new', cn(b), ask(b), flush=True)
                print('old again', cn(a), ask(a), flush=True)
                """;
        Process p = new ProcessBuilder("python3", "-c", script, String.valueOf(group.port()), both.toString())
                .redirectErrorStream(true).start();
        try (Writer in = new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            ProcessLines out = new ProcessLines(p.getInputStream(), "python");
            assertEquals("old first HTTP/1.1 200 OK", out.next(CLIENT_LIMIT));
            Files.copy(second, cert, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(dir.resolve("second-key.pem"), dir.resolve("key.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            context.reload();
            in.write("go\n");
            in.flush();
            assertEquals("new second HTTP/1.1 200 OK", out.next(CLIENT_LIMIT));
            assertEquals("old again first HTTP/1.1 200 OK", out.next(CLIENT_LIMIT));
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python ends after its last line");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(1, context.reloads());
    }

    @Test
    void aBrokenReloadKeepsTheRunningCertificate() throws Exception {
        Files.writeString(dir.resolve("key.pem"), "not a key\n");
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(dev.keel.ffm.OpenSslException.class, context::reload);
        assertTrue(e.getMessage().contains("key.pem"), e.getMessage());
        assertEquals(0, context.reloads());
        List<String> out = python(CLIENT, cert.toString(), "1.3");
        assertEquals("TLSv1.3 http/1.1 False", out.get(0));
    }

    @Test
    void kernelTlsProbeIsReportedAndConnectionsEncryptInUserSpace() {
        // This machine's kernel has no tls module: the context says so and keeps user-space TLS.
        if (context.kernelTls()) {
            assertEquals(null, context.kernelTlsReason());
        } else {
            assertTrue(context.kernelTlsReason().contains("tls"), context.kernelTlsReason());
        }
        TlsConnection t = new TlsConnection(context);
        t.open();
        try {
            assertTrue(!t.kernelSend(), "a memory BIO is never kernel TLS");
        } finally {
            t.free();
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
