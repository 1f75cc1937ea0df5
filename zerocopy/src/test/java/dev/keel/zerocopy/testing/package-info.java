/**
 * Test support shared with the cli tests through zerocopy's test-jar (which holds only this
 * package, none of the module's): a raw HTTP/1.1 client that reads answers byte for byte
 * ({@link dev.keel.zerocopy.testing.RawHttp}), the mix of request shapes the stress tests send
 * ({@link dev.keel.zerocopy.testing.RequestShapes}), this process's open descriptors
 * ({@link dev.keel.zerocopy.testing.Descriptors}), and child programs that cannot hang a test:
 * run to their end within a limit ({@link dev.keel.zerocopy.testing.Subprocess}), their lines
 * awaited with a limit ({@link dev.keel.zerocopy.testing.ProcessLines}), certificates made by
 * openssl ({@link dev.keel.zerocopy.testing.TestCertificates}).
 */
package dev.keel.zerocopy.testing;
