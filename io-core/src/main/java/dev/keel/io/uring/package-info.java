/**
 * The io_uring transport: one ring per loop, multishot accept and recv into provided buffers,
 * sends from the loop's queues, closes through the ring; it sees the loop only through
 * {@link dev.keel.io.loop.PollerHost}. {@link dev.keel.io.uring.IoUringSupport} says whether
 * the kernel runs it. Otherwise internal.
 */
package dev.keel.io.uring;
