package dev.keel.bench.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;

/**
 * One echo client of the soak: messages of 1 byte to 64 KiB of random bytes, each echo read
 * whole and compared; a fresh connection every few hundred messages.
 */
final class EchoLoad implements Runnable {
    private final InetSocketAddress server;
    private final Soak.Counters counters;
    private final long deadlineNanos;
    private final Random random;

    EchoLoad(InetSocketAddress server, Soak.Counters counters, long deadlineNanos, long seed) {
        this.server = server;
        this.counters = counters;
        this.deadlineNanos = deadlineNanos;
        this.random = new Random(seed);
    }

    @Override
    public void run() {
        byte[] message = new byte[64 * 1024];
        byte[] echo = new byte[64 * 1024];
        while (System.nanoTime() < deadlineNanos) {
            try (Socket s = new Socket()) {
                s.connect(server, 5000);
                s.setSoTimeout(10_000);
                s.setTcpNoDelay(true);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                int messages = 1 + random.nextInt(500);
                for (int i = 0; i < messages && System.nanoTime() < deadlineNanos; i++) {
                    int n = 1 + (random.nextInt(4) == 0 ? random.nextInt(message.length) : random.nextInt(512));
                    random.nextBytes(message);
                    long t0 = System.nanoTime();
                    out.write(message, 0, n);
                    if (in.readNBytes(echo, 0, n) != n || !Arrays.equals(message, 0, n, echo, 0, n)) {
                        throw new IOException("echo of " + n + " bytes differs");
                    }
                    counters.echoLatency.record(System.nanoTime() - t0);
                    counters.echoMessages.increment();
                    counters.echoBytes.add(n);
                }
            } catch (IOException | RuntimeException e) {
                counters.error("echo: " + e);
            }
        }
    }
}
