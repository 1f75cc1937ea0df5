package dev.keel.zerocopy.testing;

import java.nio.file.Path;
import java.time.Duration;

/** Self-signed certificates for 127.0.0.1 and localhost, made by openssl(1) for a test. */
public final class TestCertificates {
    private TestCertificates() {
    }

    /** Writes a P-256 certificate ({@code cn}, SAN localhost and 127.0.0.1) and its key. */
    public static void make(Path cert, Path key, String cn) throws Exception {
        Subprocess.Result r = Subprocess.run(Duration.ofSeconds(60), "openssl", "req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(),
                "-out", cert.toString());
        if (r.exit() != 0) {
            throw new IllegalStateException("openssl req failed: " + r.text() + r.err());
        }
    }
}
