package dev.keel.zerocopy.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Every shape of request a static file server meets, sent by a plain HTTP/1.1 client that
 * checks each answer: status, framing and body. The site it expects is made by
 * {@link #writeSite}. Shared by the descriptor-leak tests here and the stress run against
 * {@code keel serve} in the cli module (hence public). Test plumbing, not the code under test.
 *
 * <p>A shape whose answer closes the connection (413, 414, 431, Connection: close, the
 * server's per-connection request limit) is followed by a new connection.
 */
public final class RequestShapes implements AutoCloseable {
    /** The shapes, in the order {@link #mixed} cycles through them. */
    public enum Shape {
        ROOT, DIRECTORY, FILE, HEAD, RANGE, MULTIPART_RANGE, IF_NONE_MATCH, IF_MODIFIED_SINCE, IF_RANGE, NOT_FOUND,
        FORBIDDEN, METHOD_NOT_ALLOWED, BODY_TOO_LARGE, URI_TOO_LONG, HEADERS_TOO_LARGE, CONNECTION_CLOSE, PIPELINED
    }

    public static final String INDEX = "<!DOCTYPE html><title>home</title>\n";
    public static final String DIR_INDEX = "dir home\n";
    /** Past the server's small-file limit (8 KiB): sent with sendfile, not from memory. */
    public static final int FILE_SIZE = 64 * 1024;
    private static final String LONG_TARGET = "/" + "a".repeat(9000);
    private static final String BIG_FIELD = "X-Big: " + "b".repeat(17 * 1024) + "\r\n";

    private final int port;
    private final byte[] index;
    private final byte[] dirIndex;
    private final byte[] file;
    private final String rootTag;
    private final String fileModified;
    private final String fileTag;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private long requests;
    private long connections;

    /** A client of the site under {@code root}, served on 127.0.0.1:{@code port}. */
    public RequestShapes(int port, Path root) throws IOException {
        this.port = port;
        this.index = Files.readAllBytes(root.resolve("index.html"));
        this.dirIndex = Files.readAllBytes(root.resolve("dir/index.html"));
        this.file = Files.readAllBytes(root.resolve("file.bin"));
        connect();
        RawHttp.Response a = exchange("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true);
        rootTag = expect(a, 200, "HEAD /").header("etag");
        a = exchange("HEAD /file.bin HTTP/1.1\r\nHost: x\r\n\r\n", true);
        fileTag = expect(a, 200, "HEAD /file.bin").header("etag");
        fileModified = a.header("last-modified");
    }

    /** Writes the site: index.html, dir/index.html, file.bin, small.txt, and a directory without an index. */
    public static void writeSite(Path root) throws IOException {
        Files.writeString(root.resolve("index.html"), INDEX);
        Files.createDirectories(root.resolve("dir"));
        Files.writeString(root.resolve("dir/index.html"), DIR_INDEX);
        byte[] data = new byte[FILE_SIZE];
        new Random(12).nextBytes(data);
        Files.write(root.resolve("file.bin"), data);
        Files.writeString(root.resolve("small.txt"), "small\n");
        Files.createDirectories(root.resolve("noindex"));
    }

    /** Requests sent so far (a pipeline counts each of its requests). */
    public long requests() {
        return requests;
    }

    /** Connections opened so far. */
    public long connections() {
        return connections;
    }

    /** Sends {@code count} requests of {@code shape}, each answer checked. */
    public void send(Shape shape, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            send(shape);
        }
    }

    /** Sends {@code count} requests cycling through every shape, each answer checked. */
    public void mixed(long count) throws IOException {
        Shape[] all = Shape.values();
        for (long i = 0; i < count; i++) {
            send(all[(int) (i % all.length)]);
        }
    }

    /** One request of {@code shape} (a pipeline of eight for {@link Shape#PIPELINED}); throws on a wrong answer. */
    public void send(Shape shape) throws IOException {
        String h = "Host: x\r\n";
        switch (shape) {
            case ROOT -> body(exchange("GET / HTTP/1.1\r\n" + h + "\r\n", false), 200, index, shape);
            case DIRECTORY -> body(exchange("GET /dir/ HTTP/1.1\r\n" + h + "\r\n", false), 200, dirIndex, shape);
            case FILE -> body(exchange("GET /file.bin HTTP/1.1\r\n" + h + "\r\n", false), 200, file, shape);
            case HEAD -> {
                RawHttp.Response a = expect(exchange("HEAD /file.bin HTTP/1.1\r\n" + h + "\r\n", true), 200, shape.name());
                check(a.body().length == 0 && String.valueOf(FILE_SIZE).equals(a.header("content-length")), a, shape);
            }
            case RANGE -> body(exchange("GET /file.bin HTTP/1.1\r\n" + h + "Range: bytes=100-199\r\n\r\n", false), 206,
                    Arrays.copyOfRange(file, 100, 200), shape);
            case MULTIPART_RANGE -> {
                RawHttp.Response a = expect(exchange("GET /file.bin HTTP/1.1\r\n" + h + "Range: bytes=0-9,1000-1009\r\n\r\n", false),
                        206, shape.name());
                String text = new String(a.body(), StandardCharsets.ISO_8859_1);
                check(a.header("content-type").startsWith("multipart/byteranges")
                        && text.contains("Content-Range: bytes 0-9/" + FILE_SIZE)
                        && text.contains("Content-Range: bytes 1000-1009/" + FILE_SIZE), a, shape);
            }
            case IF_NONE_MATCH -> expect(exchange("GET / HTTP/1.1\r\n" + h + "If-None-Match: " + rootTag + "\r\n\r\n", false),
                    304, shape.name());
            case IF_MODIFIED_SINCE -> expect(exchange("GET /file.bin HTTP/1.1\r\n" + h + "If-Modified-Since: "
                    + fileModified + "\r\n\r\n", false), 304, shape.name());
            case IF_RANGE -> body(exchange("GET /file.bin HTTP/1.1\r\n" + h + "Range: bytes=0-9\r\nIf-Range: " + fileTag
                    + "\r\n\r\n", false), 206, Arrays.copyOf(file, 10), shape);
            case NOT_FOUND -> expect(exchange("GET /missing.html HTTP/1.1\r\n" + h + "\r\n", false), 404, shape.name());
            case FORBIDDEN -> expect(exchange("GET /noindex/ HTTP/1.1\r\n" + h + "\r\n", false), 403, shape.name());
            case METHOD_NOT_ALLOWED -> expect(exchange("DELETE / HTTP/1.1\r\n" + h + "\r\n", false), 405, shape.name());
            case BODY_TOO_LARGE -> closing(exchange("POST / HTTP/1.1\r\n" + h + "Content-Length: 1000000\r\n\r\n", false),
                    413, shape);
            case URI_TOO_LONG -> closing(exchange("GET " + LONG_TARGET + " HTTP/1.1\r\n" + h + "\r\n", false), 414, shape);
            case HEADERS_TOO_LARGE -> closing(exchange("GET / HTTP/1.1\r\n" + h + BIG_FIELD + "\r\n", false), 431, shape);
            case CONNECTION_CLOSE -> {
                RawHttp.Response a = exchange("GET / HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n", false);
                body(a, 200, index, shape);
                check("close".equalsIgnoreCase(a.header("connection")), a, shape);
            }
            case PIPELINED -> pipeline();
            default -> throw new IllegalArgumentException(shape.name());
        }
    }

    private void pipeline() throws IOException {
        String h = " HTTP/1.1\r\nHost: x\r\n\r\n";
        List<String> targets = List.of("GET /", "GET /dir/", "GET /file.bin", "HEAD /file.bin", "GET /small.txt",
                "GET /missing.html", "HEAD /", "GET /dir/");
        StringBuilder all = new StringBuilder();
        for (String t : targets) {
            all.append(t).append(h);
        }
        out.write(all.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        int[] statuses = {200, 200, 200, 200, 200, 404, 200, 200};
        boolean closed = false;
        for (int i = 0; i < targets.size(); i++) {
            if (closed) {
                // The request limit closed the connection inside the pipeline: the rest again, one by one.
                reconnect();
                RawHttp.Response a = exchange(targets.get(i) + h, targets.get(i).startsWith("HEAD"));
                expect(a, statuses[i], "PIPELINED " + targets.get(i));
                closed = "close".equalsIgnoreCase(a.header("connection"));
                continue;
            }
            requests++;
            RawHttp.Response a = read(targets.get(i).startsWith("HEAD"));
            expect(a, statuses[i], "PIPELINED " + targets.get(i));
            if (i == 0) {
                check(Arrays.equals(a.body(), index), a, Shape.PIPELINED);
            }
            closed = "close".equalsIgnoreCase(a.header("connection"));
        }
        if (closed) {
            reconnect();
        }
    }

    private RawHttp.Response exchange(String request, boolean head) throws IOException {
        requests++;
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        RawHttp.Response a = read(head);
        if ("close".equalsIgnoreCase(a.header("connection"))) {
            reconnect(); // asked for, an error that ends the connection, or the server's request limit
        }
        return a;
    }

    private void closing(RawHttp.Response a, int status, Shape shape) throws IOException {
        expect(a, status, shape.name());
        check("close".equalsIgnoreCase(a.header("connection")), a, shape);
    }

    private static RawHttp.Response expect(RawHttp.Response a, int status, String what) throws IOException {
        if (a.status() != status) {
            throw new IOException(what + ": expected " + status + ", got " + a.statusLine() + " " + a.headers());
        }
        return a;
    }

    private static void body(RawHttp.Response a, int status, byte[] expected, Shape shape) throws IOException {
        expect(a, status, shape.name());
        check(Arrays.equals(a.body(), expected), a, shape);
    }

    private static void check(boolean ok, RawHttp.Response a, Shape shape) throws IOException {
        if (!ok) {
            throw new IOException(shape + ": wrong answer " + a.statusLine() + " " + a.headers() + " body of "
                    + a.body().length + " bytes");
        }
    }

    private RawHttp.Response read(boolean head) throws IOException {
        return RawHttp.read(in, head);
    }

    private void connect() throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
        connections++;
    }

    private void reconnect() throws IOException {
        socket.close();
        connect();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /**
     * The descriptors process {@code pid} holds open on files under {@code root}, by path
     * (a deleted file keeps its name with " (deleted)"), from /proc/PID/fd.
     */
    public static Map<String, Integer> filesHeld(long pid, Path root) throws IOException {
        String prefix = root.toRealPath() + "/";
        Map<String, Integer> held = new TreeMap<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue; // closed while we looked
                }
                if (target.startsWith(prefix)) {
                    held.merge(target.substring(prefix.length()), 1, Integer::sum);
                }
            }
        }
        return held;
    }
}
