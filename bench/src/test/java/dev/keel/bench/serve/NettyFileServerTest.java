package dev.keel.bench.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serve benchmark's Netty peer answers like keel: same fields, the file's exact bytes. */
class NettyFileServerTest {
    @TempDir
    Path root;

    @Test
    void shouldSendFileBytesAndKeelsFieldsOverOneKeptAliveConnection() throws Exception {
        byte[] content = new byte[20_000];
        new Random(7).nextBytes(content);
        Files.write(root.resolve("f.bin"), content);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (NettyFileServer server = NettyFileServer.start(root, 0);
                 Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                for (int i = 0; i < 2; i++) {
                    out.write("GET /f.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    String head = readHead(in);
                    assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
                    for (String field : new String[] {"server:", "date:", "content-type: application/octet-stream",
                            "content-length: 20000", "last-modified:", "etag:", "accept-ranges: bytes"}) {
                        assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\n" + field), field + " in " + head);
                    }
                    assertArrayEquals(content, in.readNBytes(content.length));
                }
                out.write("HEAD /f.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readHead(in).toLowerCase(Locale.ROOT).contains("content-length: 20000"));
                out.write("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String notFound = readHead(in);
                assertTrue(notFound.startsWith("HTTP/1.1 404 "), notFound);
                assertEquals(-1, in.read(), "closed after Connection: close, and no body after HEAD");
            }
        });
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in a head: " + head);
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }
}
