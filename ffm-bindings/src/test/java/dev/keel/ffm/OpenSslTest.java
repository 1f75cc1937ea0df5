package dev.keel.ffm;

import dev.keel.ffm.gen.OpenSslConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenSSL binding against the machine's libssl.so.3, with a certificate openssl(1) makes. */
class OpenSslTest {
    @TempDir
    Path dir;

    static void makeCertificate(Path cert, Path key, String cn) throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(),
                "-out", cert.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
    }

    @Test
    void libraryIsThereAndIsVersion3() {
        assertNull(OpenSsl.unavailableReason());
        assertTrue(OpenSsl.version().startsWith("OpenSSL 3."), OpenSsl.version());
    }

    @Test
    void loadsAMatchingCertificateAndKey() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        makeCertificate(cert, key, "localhost");
        MemorySegment ctx = OpenSsl.newServerContext();
        try {
            OpenSsl.useCertificateChainFile(ctx, cert.toString());
            OpenSsl.usePrivateKeyFile(ctx, key.toString());
            long options = OpenSsl.setOptions(ctx, OpenSslConstants.SSL_OP_ENABLE_KTLS);
            assertEquals(OpenSslConstants.SSL_OP_ENABLE_KTLS, options & OpenSslConstants.SSL_OP_ENABLE_KTLS);
            assertEquals(1, OpenSsl.contextControl(ctx, OpenSslConstants.SSL_CTRL_SET_MIN_PROTO_VERSION,
                    OpenSslConstants.TLS1_2_VERSION));
        } finally {
            OpenSsl.freeContext(ctx);
        }
    }

    @Test
    void aMismatchedKeyIsNamedWithOpenSslsReason() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        makeCertificate(cert, key, "one");
        makeCertificate(dir.resolve("other.pem"), dir.resolve("other-key.pem"), "two");
        MemorySegment ctx = OpenSsl.newServerContext();
        try {
            OpenSsl.useCertificateChainFile(ctx, cert.toString());
            OpenSslException e = assertThrows(OpenSslException.class,
                    () -> OpenSsl.usePrivateKeyFile(ctx, dir.resolve("other-key.pem").toString()));
            assertTrue(e.getMessage().contains("SSL_CTX_use_PrivateKey_file") && e.getMessage().contains("error:"),
                    e.getMessage());
            OpenSslException missing = assertThrows(OpenSslException.class,
                    () -> OpenSsl.useCertificateChainFile(ctx, dir.resolve("absent.pem").toString()));
            assertTrue(missing.getMessage().contains("absent.pem"), missing.getMessage());
        } finally {
            OpenSsl.freeContext(ctx);
        }
    }

    @Test
    void memoryBiosCarryBytes() {
        MemorySegment bio = OpenSsl.newMemoryBio();
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom("hello");
            assertEquals(6, OpenSsl.bioWrite(bio, in, 0, 6));
            assertEquals(6, OpenSsl.bioControl(bio, OpenSslConstants.BIO_CTRL_PENDING, 0));
            MemorySegment out = arena.allocate(16);
            assertEquals(6, OpenSsl.bioRead(bio, out, 0, 16));
            assertEquals("hello", out.getString(0));
            assertTrue(OpenSsl.bioRead(bio, out, 0, 16) <= 0, "an empty memory BIO has nothing to read");
        } finally {
            OpenSsl.freeBio(bio);
        }
    }

    @Test
    void kernelTlsProbeAgreesWithTheKernel() throws Exception {
        String reason = KernelTls.unavailableReason();
        boolean moduleThere = Files.exists(Path.of("/sys/module/tls"));
        if (moduleThere) {
            assertNull(reason);
        } else {
            // No tls module loaded: the kernel may still load it on demand; if it did, /sys/module/tls exists now.
            if (reason == null) {
                assertTrue(Files.exists(Path.of("/sys/module/tls")), "the ULP was taken, so the module must be loaded");
            } else {
                assertTrue(reason.contains("ENOENT") || reason.contains("refused"), reason);
            }
        }
    }
}
