package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.io.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests that are malformed, too large or not HTTP/1.x: each gets its status, the
 * connection is closed where framing can no longer be trusted, and the server goes on
 * answering the next client.
 */
@Timeout(60)
class MalformedRequestTest {
    @TempDir
    static Path root;
    static FileServer server;

    @BeforeAll
    static void start() throws IOException {
        startOn(Transport.EPOLL);
    }

    static void startOn(Transport transport) throws IOException {
        Files.writeString(root.resolve("ok.txt"), "still here\n");
        server = FileServer.builder().root(root).transport(transport).start();
        assertEquals(transport, server.transport(), "the server runs on the transport asked for");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static Stream<Arguments> malformed() {
        String longTarget = "/" + "a".repeat(9000);
        String bigField = "X-Big: " + "b".repeat(17_000) + "\r\n";
        StringBuilder manyFields = new StringBuilder();
        for (int i = 0; i < 101; i++) {
            manyFields.append("X-F").append(i).append(": v\r\n");
        }
        return Stream.of(
                Arguments.of("no version", "GET /ok.txt\r\n\r\n", 400, true),
                Arguments.of("two spaces", "GET  /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, true),
                Arguments.of("lower-case version", "GET /ok.txt http/1.1\r\nHost: x\r\n\r\n", 400, true),
                Arguments.of("garbage", "\u0001\u0002\u0003 hello\r\n\r\n", 400, true),
                Arguments.of("space in the target", "GET /ok .txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, true),
                Arguments.of("tab in the target", "GET /ok\t.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, true),
                Arguments.of("raw UTF-8 in the target", "GET /\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, true),
                Arguments.of("no Host in HTTP/1.1", "GET /ok.txt HTTP/1.1\r\n\r\n", 400, true),
                Arguments.of("two Hosts", "GET /ok.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, true),
                Arguments.of("space before the colon", "GET /ok.txt HTTP/1.1\r\nHost : x\r\n\r\n", 400, true),
                Arguments.of("obsolete line folding", "GET /ok.txt HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n", 400, true),
                Arguments.of("bare CR in a field", "GET /ok.txt HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n", 400, true),
                Arguments.of("NUL in a field", "GET /ok.txt HTTP/1.1\r\nHost: x\u0000\r\n\r\n", 400, true),
                Arguments.of("field without colon", "GET /ok.txt HTTP/1.1\r\nHost x\r\n\r\n", 400, true),
                Arguments.of("Content-Length and Transfer-Encoding",
                        "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, true),
                Arguments.of("two different Content-Lengths",
                        "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, true),
                Arguments.of("Transfer-Encoding before Content-Length",
                        "GET /ok.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400, true),
                Arguments.of("Content-Length as a list",
                        "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd", 400, true),
                Arguments.of("signed Content-Length", "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400, true),
                Arguments.of("space before the colon of Content-Length",
                        "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length : 3\r\n\r\nabc", 400, true),
                Arguments.of("Transfer-Encoding folded onto a second line",
                        "GET /ok.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400, true),
                Arguments.of("bare CR ending the request line", "GET /ok.txt HTTP/1.1\rHost: x\r\n\r\n", 400, true),
                Arguments.of("non-numeric Content-Length", "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, true),
                Arguments.of("bad percent escape", "GET /ok%2.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
                Arguments.of("asterisk target", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
                Arguments.of("request line too long", "GET " + longTarget + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, true),
                Arguments.of("field too large", "GET /ok.txt HTTP/1.1\r\nHost: x\r\n" + bigField + "\r\n", 431, true),
                Arguments.of("too many fields", "GET /ok.txt HTTP/1.1\r\nHost: x\r\n" + manyFields + "\r\n", 431, true),
                Arguments.of("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, true),
                Arguments.of("HTTP/0.9 version", "GET /ok.txt HTTP/0.9\r\n\r\n", 505, true),
                Arguments.of("unknown method", "FETCH /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n", 501, true),
                Arguments.of("lower-case method", "get /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n", 501, true),
                Arguments.of("chunked body", "GET /ok.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, true),
                Arguments.of("body past the limit", "GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n", 413, true));
    }

    /**
     * Framing errors close the connection (what follows cannot be trusted); a well-framed
     * request with a bad path does not.
     */
    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("malformed")
    void shouldRefuseWithTheRightStatusAndKeepServing(String what, String request, int status, boolean closes)
            throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            h.send(request);
            RawHttp.Response r = h.read();
            assertEquals(status, r.status(), what);
            assertTrue(r.text().contains(String.valueOf(status)), "an error page");
            if (closes) {
                assertEquals("close", r.header("connection"), what);
                assertTrue(h.closedByServer(), "closed after " + what);
            } else {
                h.get("/ok.txt");
                assertEquals("still here\n", h.read().text(), "the connection goes on after " + what);
            }
        }
        assertEquals("still here\n", RawHttp.exchange(server.port(), "GET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n").text());
    }

    @Test
    void shouldRefuseAHeadThatNeverEndsOnceItPassesTheLimit() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("GET /ok.txt HTTP/1.1\r\nHost: x\r\n");
            for (int i = 0; i < 40; i++) {
                h.send("X-Filler-" + i + ": " + "f".repeat(500) + "\r\n");
            }
            assertEquals(431, h.read().status());
        }
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("GET /" + "a".repeat(10_000)); // no line end yet: already too long to be a request line
            assertEquals(414, h.read().status());
        }
    }

    @Test
    void shouldAcceptBareLineFeedsAndLeadingEmptyLines() throws Exception {
        RawHttp.Response r = RawHttp.exchange(server.port(), "\r\n\nGET /ok.txt HTTP/1.1\nHost: x\n\n");
        assertEquals(200, r.status());
        assertEquals("still here\n", r.text());
    }

    @Test
    void shouldSkipAnAllowedBodyAndAnswerTheRequestBehindIt() throws Exception {
        try (RawHttp h = new RawHttp(server.port())) {
            h.send("GET /ok.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nGET /nGET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, h.read().status());
            RawHttp.Response second = h.read();
            assertEquals(200, second.status());
            assertEquals("still here\n", second.text());
        }
    }
}
