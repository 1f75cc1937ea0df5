/**
 * Test support shared with the cli tests through zerocopy's test-jar (which holds only this
 * package): a raw HTTP/1.1 client that reads answers byte for byte
 * ({@link dev.keel.zerocopy.testing.RawHttp}) and the mix of request shapes the stress tests send
 * ({@link dev.keel.zerocopy.testing.RequestShapes}).
 */
package dev.keel.zerocopy.testing;
