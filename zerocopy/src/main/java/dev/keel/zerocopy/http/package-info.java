/**
 * The HTTP/1.1 static file server on io-core's loops.
 *
 * <p>{@link dev.keel.zerocopy.http.FileServer} is the entry point: an allocation-free request
 * parser over off-heap bytes ({@link dev.keel.zerocopy.http.HttpRequestParser}), GET/HEAD,
 * keep-alive and pipelining, ranges and multipart/byteranges, conditional requests, paths
 * confined to the root by openat2(RESOLVE_BENEATH), a bounded open-file cache
 * ({@link dev.keel.zerocopy.http.OpenFileCache}) and an asynchronous
 * {@link dev.keel.zerocopy.http.AccessLog}. {@link dev.keel.zerocopy.http.MetricsServer} serves
 * the loops' statistics as Prometheus text.
 */
package dev.keel.zerocopy.http;
