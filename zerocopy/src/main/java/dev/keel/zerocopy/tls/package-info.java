/**
 * TLS for keel's servers, done by OpenSSL 3 through FFM ({@link dev.keel.ffm.OpenSsl}).
 *
 * <p>{@link dev.keel.zerocopy.tls.TlsContext} holds the certificate (an {@code SSL_CTX}),
 * swapped for new connections on {@link dev.keel.zerocopy.tls.TlsContext#reload()};
 * {@link dev.keel.zerocopy.tls.TlsConnection} is one connection's engine: a non-blocking server
 * handshake over memory BIOs fed from the loop's reads, decryption of what arrives and
 * encryption of what leaves, from and into off-heap buffers, with no heap allocation per
 * record; {@link dev.keel.zerocopy.tls.TlsStats} counts handshakes and why they failed.
 */
package dev.keel.zerocopy.tls;
