/**
 * Reactors, one per thread, over epoll or io_uring, with off-heap connection state.
 */
package dev.keel.io;
