package dev.keel.zerocopy.http;

/**
 * The settings of a {@link FileServer} as its handler reads them; made by the builder.
 *
 * @param rootFd            O_PATH descriptor of the served directory
 * @param refuseSymlinks    refuse every symlink, not only those leaving the root
 * @param useOpenat2        resolve with openat2(2); false: the component walk
 * @param maxRequests       requests per connection before it is closed
 * @param maxRequestLine    longest request line (414 past it)
 * @param maxHeadBytes      longest request head (431 past it)
 * @param maxHeaders        most header fields (431 past it)
 * @param maxBodySkip       longest request body read and discarded to keep a connection (413 past it)
 * @param headerTimeoutNanos a request head must arrive whole this long after its first byte (408 past it; 0: off)
 * @param cacheEntries      open files kept per loop (0: no cache)
 * @param cacheValidityNanos how long a cached file is trusted before it is checked again
 * @param smallFileMax      files up to this size are kept in memory and sent with their head in one write
 * @param bodyBudget        memory for such files per loop
 * @param accessLog         where requests are logged, or null (the default: off)
 * @param boundary          multipart/byteranges boundary of this server
 * @param readAhead         reads cold file ranges off the loops before they are sent, or null (off)
 * @param tls               the certificate and TLS settings when this server speaks HTTPS, else null
 * @param precompressed     serve a.css.br/.zst/.gz for a.css when Accept-Encoding allows ({@link Precompressed})
 */
record ServerConfig(int rootFd, boolean refuseSymlinks, boolean useOpenat2, int maxRequests, int maxRequestLine,
                    int maxHeadBytes, int maxHeaders, long maxBodySkip, long headerTimeoutNanos, int cacheEntries, long cacheValidityNanos,
                    int smallFileMax, long bodyBudget, AccessLog accessLog,
                    byte[] boundary, ReadAhead readAhead, dev.keel.zerocopy.tls.TlsContext tls,
                    boolean precompressed) {
}
