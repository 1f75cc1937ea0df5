package dev.keel.io;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A loop out of descriptors must not spin on its still-readable listener, and must serve again
 * once descriptors are free. The server runs in a child JVM whose RLIMIT_NOFILE is lowered, so
 * the test's own process keeps its descriptors.
 */
class EmfileTest {
    private static final int FD_LIMIT = 160;

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(90)
    void shouldPauseAcceptingOnEmfileWithoutSpinningAndResumeWhenFdsAreFree(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        String cmd = "ulimit -n " + FD_LIMIT + " && exec '" + javaBin + "' --enable-native-access=ALL-UNNAMED -cp '"
                + System.getProperty("java.class.path") + "' dev.keel.io.EmfileProbe " + transport.label();
        Process child = new ProcessBuilder("bash", "-c", cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Socket> clients = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
             PrintWriter in = new PrintWriter(child.getOutputStream(), true)) {
            String ready = out.readLine();
            assertTrue(ready != null && ready.startsWith("port "), "child ready line: " + ready);
            InetSocketAddress server = new InetSocketAddress("127.0.0.1", Integer.parseInt(ready.substring(5)));

            // More connections than the child has descriptors: the kernel completes them in the
            // backlog, and the child's accept4 starts failing with EMFILE.
            for (int i = 0; i < FD_LIMIT + 40; i++) {
                Socket s = new Socket();
                s.connect(server, 5000);
                clients.add(s);
            }
            // The child meets EMFILE as soon as its loop gets to the backlog; on a busy machine
            // that can take a while, so ask until it has (bounded: the test's timeout).
            long failures = 0;
            String stats = "";
            for (int ask = 0; ask < 300 && failures == 0; ask++) {
                in.println("stats");
                stats = out.readLine();
                failures = Long.parseLong(stats.split(" ")[1]);
                if (failures == 0) {
                    Thread.sleep(100);
                }
            }
            assertTrue(failures > 0, "accept4 failed with EMFILE at least once; the child's counters: " + stats);

            // Not spinning: a loop that re-armed a failing accept at once, or polled a listener
            // that stays readable, would run hundreds of thousands of passes a second; paused, it
            // wakes for the retry timer (every 50 ms) and the ticks. Counted, not timed.
            long passesBefore = passes(ask(in, out));
            Thread.sleep(1500);
            String after = ask(in, out);
            long passes = passes(after) - passesBefore;
            assertTrue(passes < 20_000, "the out-of-fds child's loop ran " + passes + " passes in 1.5 s: " + after);

            for (Socket s : clients) {
                s.close();
            }
            clients.clear();
            try (Socket s = new Socket()) {
                s.connect(server, 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("back".getBytes());
                assertArrayEquals("back".getBytes(), s.getInputStream().readNBytes(4), "service resumed");
            }
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            child.getOutputStream().close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor();
            }
        }
    }

    private static String ask(PrintWriter in, BufferedReader out) throws IOException {
        in.println("stats");
        return out.readLine();
    }

    /** The {@code passes} counter in a line of the child's counters. */
    private static long passes(String stats) {
        String[] words = stats.split(" ");
        for (int i = 0; i + 1 < words.length; i++) {
            if (words[i].equals("passes")) {
                return Long.parseLong(words[i + 1]);
            }
        }
        throw new IllegalArgumentException("no passes in " + stats);
    }
}
