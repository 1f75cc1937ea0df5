package dev.keel.bench.soak;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * One HTTP client of the soak: keep-alive GETs of random files, single ranges, HEADs and
 * now and then a request that closes, each answer checked byte for byte against the file.
 */
final class HttpLoad implements Runnable {
    private final InetSocketAddress server;
    private final List<SoakFile> files;
    private final Soak.Counters counters;
    private final long deadlineNanos;
    private final Random random;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    /** Reused for every body: the driver should not be the one pausing for garbage. */
    private byte[] body = new byte[0];

    HttpLoad(InetSocketAddress server, List<SoakFile> files, Soak.Counters counters, long deadlineNanos, long seed) {
        this.server = server;
        this.files = files;
        this.counters = counters;
        this.deadlineNanos = deadlineNanos;
        this.random = new Random(seed);
    }

    @Override
    public void run() {
        while (System.nanoTime() < deadlineNanos) {
            try {
                if (socket == null) {
                    connect();
                }
                once();
            } catch (IOException | RuntimeException e) {
                counters.error("http: " + e);
                disconnect();
            }
        }
        disconnect();
    }

    private void once() throws IOException {
        SoakFile f = files.get(random.nextInt(files.size()));
        int kind = random.nextInt(100);
        boolean head = kind < 5;
        boolean close = kind >= 95;
        long first = 0;
        long last = f.bytes().length - 1;
        StringBuilder request = new StringBuilder(head ? "HEAD /" : "GET /").append(f.name())
                .append(" HTTP/1.1\r\nHost: soak\r\n");
        boolean range = kind >= 5 && kind < 25 && f.bytes().length > 1;
        if (range) {
            first = random.nextInt(f.bytes().length);
            last = first + random.nextInt(f.bytes().length - (int) first);
            request.append("Range: bytes=").append(first).append('-').append(last).append("\r\n");
        }
        if (close) {
            request.append("Connection: close\r\n");
        }
        request.append("\r\n");
        long t0 = System.nanoTime();
        out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
        String status = line();
        int expected = range ? 206 : 200;
        if (status == null || !status.startsWith("HTTP/1.1 " + expected + " ")) {
            throw new IOException("GET /" + f.name() + (range ? " range " + first + "-" + last : "") + ": " + status);
        }
        long length = -1;
        String l;
        while (!(l = line()).isEmpty()) {
            if (l.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(l.substring(15).strip());
            }
        }
        long want = last - first + 1;
        if (length != want) {
            throw new IOException("/" + f.name() + ": Content-Length " + length + ", expected " + want);
        }
        if (!head) {
            if (body.length < want) {
                body = new byte[(int) want];
            }
            int got = in.readNBytes(body, 0, (int) want);
            if (got != want || !Arrays.equals(body, 0, got, f.bytes(), (int) first, (int) last + 1)) {
                throw new IOException("/" + f.name() + ": body differs from the file" + (range ? " in range " + first + "-" + last : ""));
            }
            counters.httpBytes.add(got);
        }
        counters.httpLatency.record(System.nanoTime() - t0);
        counters.httpRequests.increment();
        if (close) {
            if (in.read() != -1) {
                throw new IOException("bytes after an answer with Connection: close");
            }
            disconnect();
        }
    }

    private void connect() throws IOException {
        socket = new Socket();
        socket.connect(server, 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    private void disconnect() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already gone
            }
            socket = null;
        }
    }

    private String line() throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        if (c < 0 && b.isEmpty()) {
            throw new IOException("connection closed by the server");
        }
        return b.toString();
    }
}
