package dev.keel.zerocopy.proxy;

import dev.keel.io.EventLoopGroup;
import dev.keel.io.Transport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy out of descriptors between the client it accepted and the upstream socket it needs
 * for it (EMFILE from socket(2)), in a child JVM whose free descriptors are counted out, on
 * each transport: that client is reset and the failure counted, the proxy serves the next one,
 * and no descriptor is left behind.
 */
@Timeout(60)
class ProxyEmfileTest {
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    void shouldResetTheClientWhoseUpstreamSocketFailsAndServeTheNext(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            String why = Transport.ioUringUnavailableReason();
            Assumptions.assumeTrue(why == null, () -> "io_uring transport not testable here: " + why);
        }
        try (EventLoopGroup upstream = EventLoopGroup.builder().unpinned().handler((c, data) -> c.write(data)).start()) {
            String javaBin = ProcessHandle.current().info().command().orElseThrow();
            String command = "ulimit -n 256 && exec '" + javaBin + "' --enable-native-access=ALL-UNNAMED -Xmx128m -cp '"
                    + System.getProperty("java.class.path") + "' " + ProxyEmfileProbe.class.getName() + " "
                    + upstream.port() + " " + transport.name();
            Process child = new ProcessBuilder(List.of("bash", "-c", command)).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
                 PrintWriter in = new PrintWriter(child.getOutputStream(), true)) {
                int port = Integer.parseInt(expectLine(out, "port ").substring(5));
                echo(port, "warm-up"); // every class of a session loaded before descriptors run out
                awaitSessions(out, in, 0);
                in.println("fds");
                int before = Integer.parseInt(expectLine(out, "fds ").substring(4));

                // The accept fits in the one descriptor left; the upstream socket does not.
                in.println("squeeze 1");
                expectLine(out, "squeezed");
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("lost".getBytes(StandardCharsets.US_ASCII));
                    assertTrue(closed(s.getInputStream()), "the client whose upstream could not be opened is closed");
                }
                awaitSessions(out, in, 0);
                in.println("failed");
                assertEquals("failed 1", expectLine(out, "failed "), "the failure counted");
                in.println("release");
                expectLine(out, "released");

                echo(port, "served after the failure");
                awaitSessions(out, in, 0);
                in.println("fds");
                assertEquals(before, Integer.parseInt(expectLine(out, "fds ").substring(4)),
                        "descriptors of the proxy back where they were");
            } finally {
                child.getOutputStream().close();
                if (!child.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    child.destroyForcibly().waitFor();
                }
            }
            assertEquals(0, child.exitValue(), "the proxy closed cleanly");
        }
    }

    private static void echo(int port, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(bytes);
            assertArrayEquals(bytes, s.getInputStream().readNBytes(bytes.length), text);
        }
    }

    private static boolean closed(InputStream in) {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return !(e instanceof java.net.SocketTimeoutException); // a reset is a close too
        }
    }

    private static void awaitSessions(BufferedReader out, PrintWriter in, int n) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String sessions;
        do {
            Thread.sleep(20);
            in.println("sessions");
            sessions = expectLine(out, "sessions ");
        } while (!sessions.equals("sessions " + n) && System.nanoTime() < deadline);
        assertEquals("sessions " + n, sessions);
    }

    private static String expectLine(BufferedReader out, String prefix) throws IOException {
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line;
            }
            seen.append(line).append('\n');
        }
        throw new IOException("the child ended before \"" + prefix + "\": " + seen);
    }
}
