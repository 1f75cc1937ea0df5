/**
 * Zero-copy transfers and what is built on them.
 *
 * <ul>
 *   <li>{@link dev.keel.zerocopy.FileRegion}: part of a file sent to a socket with sendfile(2)
 *       or splice(2) through a {@link dev.keel.zerocopy.Pipe} (pooled by
 *       {@link dev.keel.zerocopy.PipePool}), in chunks of at most 2 MiB, long offsets.</li>
 *   <li>{@link dev.keel.zerocopy.FileServer}: an HTTP/1.1 static file server on io-core's
 *       loops: an allocation-free request parser over off-heap bytes, GET/HEAD, keep-alive and
 *       pipelining, ranges and multipart/byteranges, conditional requests, paths confined to
 *       the root by openat2(RESOLVE_BENEATH), an open-file cache, an asynchronous
 *       {@link dev.keel.zerocopy.AccessLog}.</li>
 *   <li>{@link dev.keel.zerocopy.SpliceProxy}: a TCP proxy whose payload moves socket -> pipe
 *       -> socket and never enters Java.</li>
 * </ul>
 */
package dev.keel.zerocopy;
