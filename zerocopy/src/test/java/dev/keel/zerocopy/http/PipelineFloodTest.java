package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.io.testing.ResourceSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that pipelines requests and never reads the answers must not make the server
 * buffer without limit: once the answers queue past a threshold the server stops parsing,
 * then stops reading the socket, and TCP flow control pushes back on the client. Nothing is
 * dropped: when the client finally reads, every answer is there, in order.
 */
class PipelineFloodTest {
    private static final int REQUESTS = 100_000;
    /** Padded so that the pipeline (33 MB) is far more than the sockets' kernel buffers hold. */
    private static final byte[] REQUEST = ("GET /ok.txt HTTP/1.1\r\nHost: x\r\nX-Pad: " + "p".repeat(300) + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    /**
     * What the server may queue for one connection: its drain threshold (512 KiB) and one
     * read's worth of answers past it, far below the megabytes of answers the flood asks for.
     */
    private static final long QUEUE_BOUND = 2L * 1024 * 1024;

    @TempDir
    Path root;

    @Test
    @Timeout(120)
    void shouldStopReadingAPipelineWhoseAnswersAreNotReadAndStillAnswerEveryRequestInOrder() throws Exception {
        Files.writeString(root.resolve("ok.txt"), "still here\n");
        try (FileServer server = FileServer.builder().root(root).maxRequestsPerConnection(REQUESTS + 1).start()) {
            RawHttp.exchange(server.port(), "GET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            Stress.await("the warm-up connection closed", () -> server.group().loops().get(0).stats().closed() == 1, 10);
            ResourceSnapshot before = ResourceSnapshot.ofSelf(server.group());
            Stress.Held heldBefore = Stress.held(server);

            try (Socket flood = new Socket()) {
                flood.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
                flood.setSoTimeout(30_000);
                AtomicLong written = new AtomicLong();
                Thread writer = Thread.ofPlatform().name("flood-writer").start(() -> writeAll(flood, written));

                // The writer blocks: the server stopped reading, and the kernel buffers filled.
                long last = -1;
                while (written.get() != last) {
                    last = written.get();
                    Thread.sleep(1000);
                }
                assertTrue(writer.isAlive() && written.get() < (long) REQUESTS * REQUEST.length,
                        "the client is held back: " + written.get() + " of " + (long) REQUESTS * REQUEST.length + " bytes taken");
                long buffered = bufferedBytes(server);
                assertTrue(buffered <= QUEUE_BOUND, "the server holds " + buffered + " bytes for the flooding client");

                // Other clients are served meanwhile.
                long t0 = System.nanoTime();
                assertEquals("still here\n", RawHttp.exchange(server.port(), "GET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n").text());
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "another client answered within a second");

                // Now read: every request is answered, in order, and the writer finishes.
                int answers = readAnswers(flood.getInputStream());
                writer.join(30_000);
                assertEquals(REQUESTS, answers, "one answer per pipelined request");
                assertEquals((long) REQUESTS * REQUEST.length, written.get());
            }
            Stress.assertBackTo(server, before, heldBefore);
        }
    }

    private static void writeAll(Socket s, AtomicLong written) {
        byte[] batch = new byte[REQUEST.length * 100];
        for (int i = 0; i < 100; i++) {
            System.arraycopy(REQUEST, 0, batch, i * REQUEST.length, REQUEST.length);
        }
        try {
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < REQUESTS / 100; i++) {
                out.write(batch);
                written.addAndGet(batch.length);
            }
        } catch (IOException e) {
            // the test fails on the count
        }
    }

    /** Reads 200 answers of "still here\n" until {@link #REQUESTS} have come; returns how many. */
    private static int readAnswers(InputStream raw) throws IOException {
        InputStream in = new BufferedInputStream(raw, 1 << 16);
        byte[] body = "still here\n".getBytes(StandardCharsets.US_ASCII);
        int count = 0;
        StringBuilder line = new StringBuilder();
        while (count < REQUESTS) {
            // head: lines until an empty one; the status line first
            String status = readLine(in, line);
            if (status == null || !status.startsWith("HTTP/1.1 200 ")) {
                throw new IOException("answer " + count + ": " + status);
            }
            while (!readLine(in, line).isEmpty()) {
                // fields: the body length is known
            }
            byte[] got = in.readNBytes(body.length);
            if (!java.util.Arrays.equals(body, got)) {
                throw new IOException("answer " + count + " body: " + new String(got, StandardCharsets.US_ASCII));
            }
            count++;
        }
        return count;
    }

    private static String readLine(InputStream in, StringBuilder line) throws IOException {
        line.setLength(0);
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return c < 0 && line.isEmpty() ? null : line.toString();
    }

    /** Bytes of pool buffers the loops hold now: the queued answers. */
    private static long bufferedBytes(FileServer server) {
        return ResourceSnapshot.ofSelf(server.group()).loops().stream().mapToLong(ResourceSnapshot.LoopUsage::bufferBytes).sum();
    }
}
