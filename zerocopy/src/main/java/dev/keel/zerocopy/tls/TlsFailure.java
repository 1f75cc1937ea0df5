package dev.keel.zerocopy.tls;

/** Why a TLS connection ended before or instead of a working session; counted in {@link TlsStats}. */
public enum TlsFailure {
    /** The client's first bytes were not a TLS record: plain HTTP spoken to the TLS port. */
    NOT_TLS("not_tls"),
    /** OpenSSL refused the handshake (bad record, no common version or cipher, ALPN refused, alert). */
    HANDSHAKE("handshake"),
    /** The handshake did not finish within the header timeout (a client stalled mid-handshake). */
    TIMEOUT("timeout"),
    /** The client closed or reset the connection before the handshake finished. */
    PEER_CLOSED("peer_closed"),
    /** A TLS error after the handshake (a corrupt or forged record). */
    RECORD("record");

    private final String label;

    TlsFailure(String label) {
        this.label = label;
    }

    /** The metric label, e.g. {@code not_tls}. */
    public String label() {
        return label;
    }
}
