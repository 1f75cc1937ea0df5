/**
 * Zero-copy transfers on keel's reactors, in four API packages: file regions
 * ({@code dev.keel.zerocopy}; their pipes are io-core's, {@code dev.keel.io.pipe}), the HTTP/1.1
 * static file server and the metrics endpoint ({@code dev.keel.zerocopy.http}), the TCP proxy
 * on io-core's outbound connections ({@code dev.keel.zerocopy.proxy}) and TLS on OpenSSL for
 * the file server ({@code dev.keel.zerocopy.tls}).
 * Their classes that are not API are package-private. Makes no restricted FFM call itself.
 */
module dev.keel.zerocopy {
    requires transitive dev.keel.io;

    exports dev.keel.zerocopy;
    exports dev.keel.zerocopy.http;
    exports dev.keel.zerocopy.proxy;
    exports dev.keel.zerocopy.tls;
}
