package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.io.testing.ResourceSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slowloris: clients that open a request head and send one more byte every couple of
 * seconds, so that the idle timeout never sees them idle. The header timeout must answer each
 * 408 and close it, while a normal client keeps being answered within a second, and every
 * descriptor, buffer and thread the attack took must come back.
 */
class SlowlorisTest {
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(3);
    private static final long BYTE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final byte[] HEAD = ("GET /ok.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + "s".repeat(200))
            .getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path root;

    @Test
    @Timeout(20)
    void shouldAnswer408AndCloseWhenAHeadDoesNotArriveWithinTheHeaderTimeout() throws Exception {
        Files.writeString(root.resolve("ok.txt"), "ok\n");
        try (FileServer server = FileServer.builder().root(root).headerTimeout(Duration.ofSeconds(1)).start();
             RawHttp h = new RawHttp(server.port())) {
            // A complete request first: keep-alive must not start the clock by itself.
            h.get("/ok.txt");
            assertEquals(200, h.read().status());
            long start = System.nanoTime();
            h.send("GET /ok.txt HTTP/1.1\r\nHo");
            RawHttp.Response r = h.read();
            long waited = System.nanoTime() - start;
            assertEquals(408, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(h.closedByServer(), "closed after the 408");
            assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(950), "not before the timeout: " + waited / 1_000_000 + " ms");
            assertTrue(waited < TimeUnit.MILLISECONDS.toNanos(2500), "soon after it: " + waited / 1_000_000 + " ms");
        }
    }

    @Test
    @Timeout(20)
    void shouldTimeOutAClientThatTricklesOnlyEmptyLines() throws Exception {
        Files.writeString(root.resolve("ok.txt"), "ok\n");
        try (FileServer server = FileServer.builder().root(root).headerTimeout(Duration.ofSeconds(1)).start();
             RawHttp h = new RawHttp(server.port())) {
            long start = System.nanoTime();
            for (int i = 0; i < 30 && h.socket.getInputStream().available() == 0; i++) {
                h.send("\r\n"); // never idle, never a request line
                Thread.sleep(200);
            }
            assertEquals(408, h.read().status());
            assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(3000), "closed by the header timeout");
        }
    }

    @Test
    @Timeout(20)
    void shouldNotTimeAHeadThatKeepsArrivingWithinTheLimitOrAnIdleKeepAliveConnection() throws Exception {
        Files.writeString(root.resolve("ok.txt"), "ok\n");
        try (FileServer server = FileServer.builder().root(root).headerTimeout(Duration.ofSeconds(1)).start();
             RawHttp h = new RawHttp(server.port())) {
            h.get("/ok.txt");
            assertEquals(200, h.read().status());
            Thread.sleep(1600); // idle between requests: the idle timeout's business, not the header timeout's
            h.send("GET /ok.txt HTTP/1.1\r\n");
            Thread.sleep(400);
            h.send("Host: x\r\n");
            Thread.sleep(400);
            h.send("\r\n"); // 800 ms after the first byte
            assertEquals(200, h.read().status());
            h.send("GET /ok.txt HT");
            Thread.sleep(700);
            h.send("TP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, h.read().status(), "a new head has its own clock");
        }
    }

    @Test
    @Timeout(120)
    void shouldCloseSlowlorisConnectionsByTheHeaderTimeoutWhileServingOthersWithinASecond() throws Exception {
        int attackers = Stress.size(200, 1000);
        Files.writeString(root.resolve("ok.txt"), "still here\n");
        try (FileServer server = FileServer.builder().root(root).loops(2).headerTimeout(HEADER_TIMEOUT)
                .options(FileServer.loopOptions()
                        .idleTimeout(Duration.ofSeconds(5)).build()).start()) {
            // Warm-up: the normal client's path is compiled before it is timed.
            AtomicBoolean warming = new AtomicBoolean(true);
            Thread warm = Thread.ofPlatform().start(() -> normalClient(server.port(), warming, new AtomicLong(),
                    new AtomicLong(), new ArrayList<>()));
            Thread.sleep(1500);
            warming.set(false);
            warm.join(10_000);
            Stress.await("the warm-up connections closed", () -> server.group().loops().stream()
                    .allMatch(l -> l.stats().closed() == l.stats().accepted()), 10);
            ResourceSnapshot before = ResourceSnapshot.ofSelf(server.group());
            Stress.Held heldBefore = Stress.held(server);

            AtomicBoolean attacking = new AtomicBoolean(true);
            AtomicLong worstNanos = new AtomicLong();
            AtomicLong answered = new AtomicLong();
            List<Throwable> normalFailures = new ArrayList<>();
            Slow[] slow = new Slow[attackers];
            Thread normal = null;
            try {
                // Connected first: the bound is on the trickle, not on a burst of connects.
                for (int i = 0; i < attackers; i++) {
                    slow[i] = new Slow(server.port());
                }
                normal = Thread.ofPlatform().name("normal-client").start(
                        () -> normalClient(server.port(), attacking, worstNanos, answered, normalFailures));
                drive(slow, HEADER_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(10));
            } finally {
                attacking.set(false);
                if (normal != null) {
                    normal.join(15_000);
                }
                for (Slow s : slow) {
                    if (s != null) {
                        s.socket.close();
                    }
                }
            }
            int timedOut = 0;
            long latest = 0;
            for (Slow s : slow) {
                assertTrue(s.closedAtNanos > 0, "every slow connection was closed by the server");
                timedOut += s.got408 ? 1 : 0;
                latest = Math.max(latest, s.closedAtNanos - s.firstByteNanos);
                assertTrue(s.closedAtNanos - s.firstByteNanos >= HEADER_TIMEOUT.toNanos() - TimeUnit.MILLISECONDS.toNanos(50),
                        "not closed before the header timeout");
            }
            assertEquals(attackers, timedOut, "each slow connection was answered 408");
            assertTrue(latest < HEADER_TIMEOUT.toNanos() + TimeUnit.MILLISECONDS.toNanos(2500),
                    "closed by the header timeout, not later: " + latest / 1_000_000 + " ms");
            assertEquals(List.of(), normalFailures, "the normal client never failed");
            assertTrue(answered.get() > 20, "the normal client was answered throughout: " + answered.get());
            assertTrue(worstNanos.get() < TimeUnit.SECONDS.toNanos(1),
                    "the normal client's slowest answer took " + worstNanos.get() / 1_000_000 + " ms");
            long timeouts = server.group().loops().stream().mapToLong(l -> l.stats().idleTimeouts()).sum();
            assertEquals(0, timeouts, "the idle timeout closed none of them: they were never idle");
            Stress.assertBackTo(server, before, heldBefore);
        }
    }

    /**
     * Every 100 ms: a connection with something to read has been answered (or closed); one
     * due for its next byte gets it. Blocking sockets, one thread: writing one byte never
     * blocks, and {@code available()} says whether the server spoke.
     */
    private static void drive(Slow[] slow, long limitNanos) throws Exception {
        long end = System.nanoTime() + limitNanos;
        int open = slow.length;
        while (open > 0 && System.nanoTime() < end) {
            open = 0;
            for (Slow s : slow) {
                if (s.closedAtNanos == 0) {
                    s.step();
                    open += s.closedAtNanos == 0 ? 1 : 0;
                }
            }
            Thread.sleep(100);
        }
    }

    private static void normalClient(int port, AtomicBoolean attacking, AtomicLong worst, AtomicLong answered,
                                     List<Throwable> failures) {
        try {
            RawHttp h = new RawHttp(port);
            try {
                for (int i = 0; attacking.get(); i++) {
                    if (i % 10 == 9) { // a fresh connection now and then: accepting must keep up too
                        h.close();
                        h = new RawHttp(port);
                    }
                    long t0 = System.nanoTime();
                    h.get("/ok.txt");
                    RawHttp.Response r = h.read();
                    long took = System.nanoTime() - t0;
                    worst.accumulateAndGet(took, Math::max);
                    if (took > 500_000_000L) {
                        System.err.println("slowloris test: the normal client's answer " + i + " took " + took / 1_000_000
                                + " ms" + (i % 10 == 9 ? " (a fresh connection)" : ""));
                    }
                    if (r.status() != 200 || !r.text().equals("still here\n")) {
                        throw new AssertionError("normal client got " + r.statusLine());
                    }
                    answered.incrementAndGet();
                    Thread.sleep(20);
                }
            } finally {
                h.close();
            }
        } catch (Throwable t) {
            synchronized (failures) {
                failures.add(t);
            }
        }
    }

    /** One slowloris connection: sends the head a byte at a time, reads the 408 when it comes. */
    private static final class Slow {
        final Socket socket = new Socket();
        final InputStream in;
        int sent;
        long lastByteNanos;
        long firstByteNanos;
        long closedAtNanos;
        boolean got408;
        final byte[] answer = new byte[4096];
        int answerLength;

        Slow(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
        }

        void step() {
            long now = System.nanoTime();
            try {
                if (in.available() > 0) {
                    readAnswer();
                    return;
                }
                if (sent == 0 || now - lastByteNanos >= BYTE_EVERY_NANOS) {
                    socket.getOutputStream().write(HEAD[sent % HEAD.length]);
                    if (sent == 0) {
                        firstByteNanos = now;
                    }
                    sent++;
                    lastByteNanos = now;
                }
            } catch (IOException e) {
                closedAtNanos = System.nanoTime(); // reset: closed too, but without the 408 seen
            }
        }

        private void readAnswer() throws IOException {
            int n;
            while ((n = in.read(answer, answerLength, answer.length - answerLength)) > 0) {
                answerLength += n;
            }
            String text = new String(answer, 0, answerLength, StandardCharsets.US_ASCII);
            got408 = text.startsWith("HTTP/1.1 408 ");
            closedAtNanos = System.nanoTime();
        }
    }
}
