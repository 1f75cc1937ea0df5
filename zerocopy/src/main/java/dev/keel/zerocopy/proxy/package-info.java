/**
 * The splice proxy: {@link dev.keel.zerocopy.proxy.SpliceProxy} forwards TCP connections to an
 * upstream, and the payload moves socket -> pipe -> socket without entering Java.
 */
package dev.keel.zerocopy.proxy;
