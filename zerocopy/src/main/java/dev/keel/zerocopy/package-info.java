/**
 * Zero-copy transfers: file regions and the pipes that carry them.
 *
 * <ul>
 *   <li>{@link dev.keel.zerocopy.FileRegion}: part of a file sent to a socket with sendfile(2)
 *       or splice(2) through a {@link dev.keel.zerocopy.Pipe} (pooled by
 *       {@link dev.keel.zerocopy.PipePool}), in chunks of at most 2 MiB, long offsets.</li>
 * </ul>
 *
 * <p>What is built on them lives beside: {@link dev.keel.zerocopy.http} (the HTTP/1.1 static
 * file server and the metrics endpoint) and {@link dev.keel.zerocopy.proxy} (the splice proxy).
 */
package dev.keel.zerocopy;
