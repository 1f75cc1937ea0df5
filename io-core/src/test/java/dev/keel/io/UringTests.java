package dev.keel.io;

import dev.keel.io.uring.IoUringSupport;
import org.junit.jupiter.api.Assumptions;

/** Shared plumbing of the io_uring tests. */
public final class UringTests {
    private UringTests() {
    }

    /**
     * Skips the calling tests, saying why, when this kernel or process cannot run the io_uring
     * transport (no io_uring, forbidden, or older than the operations it uses).
     */
    public static void assumeIoUring() {
        IoUringSupport s = IoUringSupport.probe();
        Assumptions.assumeTrue(s.usable(), () -> "io_uring transport not testable here: " + s.reason());
    }

    /**
     * The JDK keeps a descriptor of its own from its first socket use on: use a socket once
     * before a test counts the process's descriptors.
     */
    static void settleJdkDescriptors() throws java.io.IOException {
        try (var server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             var client = new java.net.Socket()) {
            client.connect(server.getLocalSocketAddress(), 5000);
            server.accept().close();
        }
    }
}
