package dev.keel.ffm;

/**
 * An OpenSSL call failed. The message names the call and the reasons OpenSSL queued for this
 * thread (ERR_get_error, as ERR_error_string_n prints them), for example
 * {@code SSL_CTX_use_PrivateKey_file(/etc/keel/key.pem): error:05800074:x509 certificate
 * routines::key values mismatch}. The queue is emptied, so the next failure starts clean.
 */
public final class OpenSslException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Name of the failed call. */
    private final String call;

    /** A failure of {@code call}, with OpenSSL's {@code reasons} (from its error queue). */
    public OpenSslException(String call, String reasons) {
        super(call + ": " + reasons);
        this.call = call;
    }

    /** Name of the failed call, e.g. {@code "SSL_CTX_use_certificate_chain_file"}. */
    public String call() {
        return call;
    }
}
