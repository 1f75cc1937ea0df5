/**
 * Pipes as the kernel-side buffers of splice(2): {@link dev.keel.io.pipe.Pipe} (non-blocking,
 * sized with F_SETPIPE_SZ, counting the bytes it holds) and {@link dev.keel.io.pipe.PipePool}
 * (empty pipes kept for reuse by one thread, a stated number at most). The io_uring transport
 * splices file regions through them, as does zerocopy's {@code FileRegion}.
 */
package dev.keel.io.pipe;
