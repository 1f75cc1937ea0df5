/**
 * Listening sockets: N non-blocking listeners on one port with SO_REUSEPORT, one per loop, for
 * the loop group; not an API.
 */
package dev.keel.io.listen;
