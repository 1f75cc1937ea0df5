package dev.keel.zerocopy.proxy;

import dev.keel.io.EventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
 * The splice proxy out of descriptors between its first and second pipe (EMFILE on the second
 * pipe2 of a session), in a child JVM whose free descriptors are counted out: that client is
 * closed, the proxy serves the next one, and nothing leaks. (It used to meet a null second
 * direction while closing the session, lose its loop thread, and close the session's socket
 * numbers a second time on the way out.)
 */
@Timeout(60)
class ProxyEmfileTest {
    @Test
    void shouldCloseTheClientWhoseSecondPipeFailsAndServeTheNext() throws Exception {
        try (EventLoopGroup upstream = EventLoopGroup.builder().unpinned().handler((c, data) -> c.write(data)).start()) {
            String javaBin = ProcessHandle.current().info().command().orElseThrow();
            String command = "ulimit -n 256 && exec '" + javaBin + "' --enable-native-access=ALL-UNNAMED -Xmx128m -cp '"
                    + System.getProperty("java.class.path") + "' " + ProxyEmfileProbe.class.getName() + " " + upstream.port();
            Process child = new ProcessBuilder(List.of("bash", "-c", command)).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
                 PrintWriter in = new PrintWriter(child.getOutputStream(), true)) {
                int port = Integer.parseInt(expectLine(out, "port ").substring(5));
                echo(port, "warm-up"); // every class of a session loaded before descriptors run out
                awaitSessions(out, in, 0);
                // A session kept open holds the two pipes the warm-up gave back to the pool, so
                // the next session must make both of its pipes.
                Socket kept = new Socket();
                kept.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                awaitSessions(out, in, 1);
                in.println("fds");
                int before = Integer.parseInt(expectLine(out, "fds ").substring(4));

                // accept, the upstream socket and the first pipe (two descriptors) fit; the second pipe does not.
                in.println("squeeze 4");
                expectLine(out, "squeezed");
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("lost".getBytes(StandardCharsets.US_ASCII));
                    assertTrue(closed(s.getInputStream()), "the client whose session could not be made is closed");
                }
                in.println("release");
                expectLine(out, "released");

                echo(port, "served after the failure");
                awaitSessions(out, in, 1);
                in.println("fds");
                // The failed session's first pipe went back to the pool, the next session took
                // it and made one more, and gave both back: two idle pipes, four descriptors.
                assertEquals(before + 4, Integer.parseInt(expectLine(out, "fds ").substring(4)),
                        "descriptors of the proxy: two idle pipes more, nothing else");
                kept.close();
                awaitSessions(out, in, 0);
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
