package example;

import dev.keel.io.EventLoopGroup;
import dev.keel.zerocopy.http.FileServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A user's code on keel's artifacts, resolved through keel-bom: an echo server and a file server. */
class ConsumerTest {
    @Test
    void shouldEchoThroughAnEventLoopGroup() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.builder()
                .port(0)
                .loops(1)
                .handler((connection, data) -> connection.write(data))
                .start();
             Socket socket = new Socket("127.0.0.1", group.port())) {
            byte[] sent = "through the BOM\n".getBytes(StandardCharsets.US_ASCII);
            OutputStream out = socket.getOutputStream();
            out.write(sent);
            out.flush();
            InputStream in = socket.getInputStream();
            assertArrayEquals(sent, in.readNBytes(sent.length));
        }
    }

    @Test
    void shouldServeAFile(@TempDir Path root) throws Exception {
        byte[] body = "served by keel's FileServer\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(root.resolve("hello.txt"), body);
        try (FileServer server = FileServer.builder().root(root).port(0).start()) {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + server.port() + "/hello.txt")
                    .toURL().openConnection();
            assertEquals(200, c.getResponseCode());
            try (InputStream in = c.getInputStream()) {
                assertArrayEquals(body, in.readAllBytes());
            }
        }
    }
}
