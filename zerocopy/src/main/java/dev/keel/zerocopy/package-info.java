/**
 * File regions sent with sendfile, splice or mmap, and the HTTP/1.1 static file server.
 */
package dev.keel.zerocopy;
