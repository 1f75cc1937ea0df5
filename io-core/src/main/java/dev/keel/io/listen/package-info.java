/**
 * Listening sockets: N non-blocking listeners on one port with SO_REUSEPORT, one per loop. Used
 * by the loop group and, through a qualified export, by zerocopy's splice proxy; not an API.
 */
package dev.keel.io.listen;
