/**
 * Internals shared by the loop ({@code dev.keel.io}) and its transports: the off-heap
 * connection table, buffer pool and output queues, the timing wheel, loop memory and wake-up,
 * and {@link dev.keel.io.loop.Poller} with {@link dev.keel.io.loop.PollerHost} — the one narrow
 * interface through which a transport sees its loop. Public only so that the transport
 * packages can reach it; not an API.
 */
package dev.keel.io.loop;
