/**
 * The TCP proxy: {@link dev.keel.zerocopy.proxy.TcpProxy} forwards every connection accepted on
 * its port to one upstream, over an outbound connection of the same io-core loop, both ways,
 * with back-pressure, half-closes and resets passed on, and counters of what became of each
 * session ({@link dev.keel.zerocopy.proxy.ProxyStats}).
 */
package dev.keel.zerocopy.proxy;
