package dev.keel.bench.soak;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The soak's slow client: opens a request head and never finishes it, a few connections at a
 * time, and checks that keel serve answers each with 408 and closes it once the header timeout
 * passes; a 408 is a success here, anything else an error.
 */
final class SlowLoad implements Runnable {
    private static final byte[] PARTIAL = "GET /file-1.bin HTTP/1.1\r\nHost: soak\r\nX-Slow: "
            .getBytes(StandardCharsets.US_ASCII);
    private final InetSocketAddress server;
    private final Soak.Counters counters;
    private final long deadlineNanos;
    private final int headerTimeoutSeconds;

    SlowLoad(InetSocketAddress server, Soak.Counters counters, long deadlineNanos, int headerTimeoutSeconds) {
        this.server = server;
        this.counters = counters;
        this.deadlineNanos = deadlineNanos;
        this.headerTimeoutSeconds = headerTimeoutSeconds;
    }

    @Override
    public void run() {
        // Stop early enough that the last one times out before the end.
        while (System.nanoTime() + (headerTimeoutSeconds + 3) * 1_000_000_000L < deadlineNanos) {
            try (Socket s = new Socket()) {
                s.connect(server, 5000);
                s.setSoTimeout((headerTimeoutSeconds + 3) * 1000);
                s.getOutputStream().write(PARTIAL);
                InputStream in = s.getInputStream();
                String answer = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
                if (!answer.equals("HTTP/1.1 408")) {
                    throw new IOException("a head left unfinished got '" + answer + "', not 408");
                }
                in.readAllBytes(); // then the server closes
                counters.timedOut.increment();
            } catch (IOException | RuntimeException e) {
                counters.error("slow: " + e);
            }
        }
    }
}
