package dev.keel.zerocopy.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately plain HTTP/1.1 client on a raw socket, for what java.net.http will not send
 * (pipelined requests, malformed request lines, hostile paths) and to read answers byte for
 * byte. Test plumbing, not the code under test.
 */
public final class RawHttp implements AutoCloseable {
    public final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    /** One answer: status, fields (names lower-cased, last one wins) and body. */
    public record Response(int status, String statusLine, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    public RawHttp send(String request) throws IOException {
        return send(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttp send(byte[] request) throws IOException {
        out.write(request);
        out.flush();
        return this;
    }

    /** Sends a GET for {@code target} with a Host field. */
    public RawHttp get(String target) throws IOException {
        return send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    }

    /** Reads an answer to a GET (a body framed by Content-Length; none for 304). */
    public Response read() throws IOException {
        return read(false);
    }

    /** Reads an answer; {@code headRequest}: the answer has no body whatever Content-Length says. */
    public Response read(boolean headRequest) throws IOException {
        return read(in, headRequest);
    }

    /**
     * Reads one answer from {@code in} (buffered: it is read a byte at a time up to the body);
     * {@code headRequest}: no body whatever Content-Length says. Shared with {@link RequestShapes}.
     */
    public static Response read(InputStream in, boolean headRequest) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) {
            throw new IOException("connection closed before a status line");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        String l;
        while ((l = line(in)) != null && !l.isEmpty()) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        byte[] body = new byte[0];
        String length = headers.get("content-length");
        if (!headRequest && status != 304 && length != null) {
            body = in.readNBytes(Integer.parseInt(length));
            if (body.length != Integer.parseInt(length)) {
                throw new IOException("body ended early: " + body.length + " of " + length);
            }
        }
        return new Response(status, statusLine, headers, body);
    }

    /** Everything until the server closes. */
    public byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    /** True when the server closed the connection (end of stream) within the socket timeout. */
    public boolean closedByServer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true; // a reset is a close too
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** One request on a fresh connection. */
    public static Response exchange(int port, String request) throws IOException {
        try (RawHttp h = new RawHttp(port)) {
            h.send(request);
            return h.read(request.startsWith("HEAD "));
        }
    }
}
