package dev.keel.zerocopy.http;

import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.stats.LoopStatsSnapshot;
import dev.keel.io.stats.PrometheusText;
import dev.keel.io.Transport;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Serves {@code GET /metrics} in the Prometheus text format ({@link PrometheusText}) on keel's
 * own io-core: one unpinned epoll loop of its own, apart from the loops it reports on. A scrape
 * reads their counters with opaque reads ({@link dev.keel.io.LoopStats}) and renders the text on
 * this loop, so the serving loops are never stopped, woken or made to allocate. Requests are
 * parsed with the file server's {@link HttpRequestParser}; any other path is 404, any other
 * method 405; keep-alive is honoured. Answers are written with the file server's
 * {@link ResponseHead} and {@link Status} pages, so both servers speak alike.
 */
public final class MetricsServer implements AutoCloseable {
    /** Request heads larger than this are refused (431). */
    private static final int MAX_HEAD = 8192;
    private static final byte[] PATH = "/metrics".getBytes(StandardCharsets.US_ASCII);
    /** The longest head this server writes (status line, Server, Date, type, length, Allow, close) and an error page. */
    private static final int HEAD_BUFFER = 1024;
    private static final byte[] TEXT_TYPE = PrometheusText.CONTENT_TYPE.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTML_TYPE = "text/html; charset=utf-8".getBytes(StandardCharsets.US_ASCII);

    private final EventLoopGroup group;

    private MetricsServer(EventLoopGroup group) {
        this.group = group;
    }

    /**
     * Binds {@code host:port} (0: any free port) and serves what {@code source} returns at each
     * scrape; {@code source} runs on the metrics loop and must not block.
     */
    public static MetricsServer start(InetAddress host, int port, Supplier<List<LoopStatsSnapshot>> source) {
        return start(host, port, source, () -> "");
    }

    /**
     * As {@link #start(InetAddress, int, Supplier)}, with the text {@code more} returns at each
     * scrape after the loops' metrics: an application's own metrics, already in the Prometheus
     * text format (a {@code # HELP} and {@code # TYPE} line per metric, names of its own). Runs
     * on the metrics loop and must not block.
     */
    public static MetricsServer start(InetAddress host, int port, Supplier<List<LoopStatsSnapshot>> source,
                                      Supplier<String> more) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(more, "more");
        EventLoopGroup group = EventLoopGroup.builder().loops(1).unpinned().transport(Transport.EPOLL)
                .host(host).port(port)
                .options(LoopOptions.builder().maxConnections(64).readBufferBytes(MAX_HEAD)
                        .idleTimeout(Duration.ofSeconds(60)).build())
                .handler(new Handler(source, more)).start();
        return new MetricsServer(group);
    }

    /** Serves the statistics of {@code loops}' loops. */
    public static MetricsServer start(InetAddress host, int port, EventLoopGroup loops) {
        return start(host, port, loops::stats);
    }

    /** The address {@code /metrics} is served on. */
    public InetSocketAddress address() {
        return group.address();
    }

    /** The port {@code /metrics} is served on (the kernel's pick when asked for 0). */
    public int port() {
        return group.port();
    }

    @Override
    public void close() {
        group.close();
    }

    /** Per connection: the bytes of a request head not yet complete. */
    private static final class Input {
        final MemorySegment bytes = Arena.ofAuto().allocate(MAX_HEAD + 1);
        long length;
        /** Answered with Connection: close; whatever else arrives is ignored. */
        boolean done;
    }

    private static final class Handler implements ConnectionHandler {
        private final Supplier<List<LoopStatsSnapshot>> source;
        private final Supplier<String> more;
        private final HttpRequestParser parser = new HttpRequestParser(MAX_HEAD / 2, MAX_HEAD, 64);
        private final HttpRequest request = new HttpRequest();
        private final ResponseHead head = new ResponseHead(Arena.ofAuto().allocate(HEAD_BUFFER));

        Handler(Supplier<List<LoopStatsSnapshot>> source, Supplier<String> more) {
            this.source = source;
            this.more = more;
        }

        @Override
        public void onOpen(Connection connection) {
            connection.attach(new Input());
        }

        @Override
        public void onData(Connection connection, MemorySegment data) {
            Input in = (Input) connection.attachment();
            if (in.done) {
                return;
            }
            if (in.length + data.byteSize() > MAX_HEAD) {
                answer(connection, 431, null, false, false);
                return;
            }
            MemorySegment.copy(data, 0, in.bytes, in.length, data.byteSize());
            long scanFrom = in.length;
            in.length += data.byteSize();
            while (connection.isOpen() && serveOne(connection, in, scanFrom)) {
                scanFrom = 0; // what is left was moved to the front: scan it anew (pipelining)
            }
        }

        /** Answers the first request in {@code in} if its head is complete; false when none is. */
        private boolean serveOne(Connection connection, Input in, long scanFrom) {
            long from = HttpRequestParser.skipEmptyLines(in.bytes, 0, in.length);
            long end = HttpRequestParser.findHeadEnd(in.bytes, from, Math.max(from, scanFrom), in.length);
            if (end < 0) {
                int status = parser.incompleteStatus(in.bytes, from, in.length);
                if (status != 0) {
                    answer(connection, status, null, false, false);
                }
                return false;
            }
            long parsed = parser.parse(in.bytes, from, end, request);
            if (parsed < 0) {
                answer(connection, (int) -parsed, null, false, false);
                return false;
            }
            // A request with a body is not one a scraper sends: answer, then close rather than read it.
            boolean keepAlive = request.keepAlive() && request.contentLength <= 0 && !request.transferEncoding;
            route(connection, keepAlive);
            MemorySegment.copy(in.bytes, end, in.bytes, 0, in.length - end);
            in.length -= end;
            return keepAlive && in.length > 0;
        }

        private void route(Connection connection, boolean keepAlive) {
            if (request.method != HttpRequest.GET && request.method != HttpRequest.HEAD) {
                answer(connection, request.method == HttpRequest.OTHER ? 405 : 501, null, false, keepAlive);
            } else if (!isMetricsPath()) {
                answer(connection, 404, null, request.isHead(), keepAlive);
            } else {
                byte[] body = (PrometheusText.render(source.get()) + more.get()).getBytes(StandardCharsets.UTF_8);
                answer(connection, 200, body, request.isHead(), keepAlive);
            }
        }

        /** "/metrics", with or without a query string. */
        private boolean isMetricsPath() {
            long length = request.targetEnd - request.targetStart;
            if (length < PATH.length || !Ascii.equals(request.source, request.targetStart,
                    request.targetStart + PATH.length, PATH)) {
                return false;
            }
            return length == PATH.length || request.source.get(JAVA_BYTE, request.targetStart + PATH.length) == '?';
        }

        /**
         * Writes the answer with the file server's head writer: the status page for an error,
         * the exposition otherwise; the head is copied into io-core's queue by the write.
         */
        private void answer(Connection c, int status, byte[] body, boolean headOnly, boolean keepAlive) {
            byte[] content = body != null ? body : Status.page(status);
            head.start(status, System.currentTimeMillis()).contentType(body != null ? TEXT_TYPE : HTML_TYPE)
                    .contentLength(content.length);
            if (status == 405) {
                head.allow();
            }
            head.end(keepAlive, request.minorVersion);
            boolean small = !headOnly && content.length <= head.buffer().byteSize() - head.length();
            if (small) {
                head.put(content); // an error page goes out with its head
            }
            c.write(head.slice(head.length()));
            if (!headOnly && !small) {
                c.write(MemorySegment.ofArray(content));
            }
            if (!keepAlive) {
                ((Input) c.attachment()).done = true;
                c.close();
            }
        }
    }
}
