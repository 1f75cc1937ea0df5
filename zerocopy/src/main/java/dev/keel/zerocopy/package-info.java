/**
 * Zero-copy transfers: file regions.
 *
 * <ul>
 *   <li>{@link dev.keel.zerocopy.FileRegion}: part of a file sent to a socket with sendfile(2)
 *       or splice(2) through a {@link dev.keel.io.pipe.Pipe} (pooled by
 *       {@link dev.keel.io.pipe.PipePool}; pipes moved to io-core, whose io_uring transport
 *       splices file bodies through them), in chunks of at most 2 MiB, long offsets. For a
 *       connection of an io-core loop, use {@link dev.keel.io.Connection#writeFile} instead:
 *       the transport then carries the file its own way.</li>
 * </ul>
 *
 * <p>What is built on them lives beside: {@link dev.keel.zerocopy.http} (the HTTP/1.1 static
 * file server and the metrics endpoint) and {@link dev.keel.zerocopy.proxy} (the TCP proxy).
 */
package dev.keel.zerocopy;
