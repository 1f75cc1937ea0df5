package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_TCP;
import static dev.keel.ffm.gen.LinuxConstants.TCP_ULP;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Whether this kernel can do TLS itself (kTLS): the probe OpenSSL makes too, asked directly.
 * A connected TCP socket on 127.0.0.1 is given the {@code tls} upper layer protocol
 * ({@code setsockopt(fd, SOL_TCP, TCP_ULP, "tls", 3)}, Documentation/networking/tls.rst);
 * the kernel answers ENOENT when it has no {@code tls} module (CONFIG_TLS off, or tls.ko not
 * loadable). Without it, OpenSSL's SSL_OP_ENABLE_KTLS silently stays in user space and
 * SSL_sendfile fails; with it, OpenSSL switches a connection to kTLS after its handshake.
 */
public final class KernelTls {
    private static final byte[] ULP_NAME = "tls".getBytes(StandardCharsets.US_ASCII);

    private KernelTls() {
    }

    /**
     * Null when the kernel took the {@code tls} ULP on a test connection, else why not, for
     * example {@code "the kernel has no tls module (setsockopt TCP_ULP \"tls\": ENOENT)"}.
     */
    public static String unavailableReason() {
        int listener = -1;
        int client = -1;
        int server = -1;
        try (Arena arena = Arena.ofConfined()) {
            listener = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
            int len = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), addr);
            Sockets.bind(listener, addr, len);
            Sockets.listen(listener, 1);
            Sockets.localAddress(listener, addr);
            client = Sockets.socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int r = Sockets.connect(client, addr, len);
            if (r != 0) {
                return "the kTLS probe could not connect on 127.0.0.1 (" + Errno.name(-r) + ")";
            }
            server = Sockets.acceptBlocking(listener, SOCK_CLOEXEC);
            MemorySegment name = arena.allocate(ULP_NAME.length);
            MemorySegment.copy(ULP_NAME, 0, name, JAVA_BYTE, 0, ULP_NAME.length);
            try {
                Sockets.set(server, SOL_TCP, TCP_ULP, name);
                return null;
            } catch (SyscallException e) {
                if (e.errno() == Errno.ENOENT) {
                    return "the kernel has no tls module (setsockopt TCP_ULP \"tls\": ENOENT)";
                }
                return "the kernel refused kernel TLS (setsockopt TCP_ULP \"tls\": " + e.errnoName() + ")";
            }
        } catch (SyscallException e) {
            return "the kTLS probe failed: " + e.getMessage();
        } finally {
            for (int fd : new int[] {server, client, listener}) {
                if (fd >= 0) {
                    Files.closeQuietly(fd);
                }
            }
        }
    }
}
