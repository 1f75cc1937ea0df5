package dev.keel.zerocopy.testing;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Self-signed certificates for 127.0.0.1 and localhost, made by openssl(1) for a test. */
public final class TestCertificates {
    private TestCertificates() {
    }

    /** Writes a P-256 certificate ({@code cn}, SAN localhost and 127.0.0.1) and its key. */
    public static void make(Path cert, Path key, String cn) throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(),
                "-out", cert.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl req failed: " + out);
        }
    }
}
