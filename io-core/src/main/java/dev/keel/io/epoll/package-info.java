/**
 * The epoll transport: readiness, non-blocking reads into the loop's read buffer and writes
 * from its queues; it sees the loop only through {@link dev.keel.io.loop.PollerHost}. Internal.
 */
package dev.keel.io.epoll;
