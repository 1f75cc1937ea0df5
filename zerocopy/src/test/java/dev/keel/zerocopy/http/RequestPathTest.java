package dev.keel.zerocopy.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Percent-decoding, checks and dot-segment resolution of request targets. */
class RequestPathTest {
    private final Arena arena = Arena.ofConfined();
    private final RequestPath path = new RequestPath(arena.allocate(4096 + 64), 4096);

    @AfterEach
    void close() {
        arena.close();
    }

    private int decode(String target) {
        byte[] b = target.getBytes(StandardCharsets.ISO_8859_1);
        MemorySegment m = arena.allocate(b.length + 1L);
        MemorySegment.copy(b, 0, m, JAVA_BYTE, 0, b.length);
        return path.decode(m, 0, b.length);
    }

    private String decoded() {
        byte[] b = new byte[path.length()];
        MemorySegment.copy(path.buffer(), JAVA_BYTE, 0, b, 0, b.length);
        assertEquals(0, path.buffer().get(JAVA_BYTE, path.length()), "NUL-terminated");
        return new String(b, StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "/|.|true",
        "/index.html|index.html|false",
        "/a/b/c.txt|a/b/c.txt|false",
        "//a///b//|a/b|true",
        "/a/./b|a/b|false",
        "/a/b/..|a|true",
        "/a/b/../c|a/c|false",
        "/a/.|a|true",
        "/a/..|.|true",
        "/%61%62c|abc|false",
        "/with%20space.txt|with space.txt|false",
        "/caf%C3%A9|caf\u00e9|false",
        "/%252e%252e/x|%2e%2e/x|false",
        "/...|...|false",
        "/a/b?x=/../..|a/b|false",
        "/a#frag|a|false",
        "http://host/a/b|a/b|false",
        "HTTP://host|.|true",
    })
    void shouldNormalise(String target, String expected, boolean slash) {
        assertEquals(RequestPath.OK, decode(target), target);
        assertEquals(expected, decoded());
        assertEquals(slash, path.trailingSlash(), "trailing slash of " + target);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/..", "/../x", "/a/../..", "/%2e%2e", "/%2E%2e/x", "/.%2e/x", "/a/%2e%2e/%2e%2e", "/%2e%2e%2f",
        "/%00", "/a%00b", "/%0a", "/%7f", "/a%5cb", "/a\\b", "/%c0%ae%c0%ae", "/%c0%af", "/%e0%80%ae",
        "/%ed%a0%80", "/%f4%90%80%80", "/%ff", "/%80", "/%c3", "/%", "/%2", "/%zz", "/%u002e", "*",
        "a/b", "ftp://host/x", "http:/x", "http:///x",
    })
    void shouldRefuseWith400(String target) {
        assertEquals(400, decode(target), target);
    }

    @Test
    void shouldRefuseAPathLongerThanTheLimitWith414() {
        assertEquals(414, decode("/" + "a".repeat(4097)));
        assertEquals(RequestPath.OK, decode("/" + "a".repeat(4095)));
    }

    @Test
    void shouldAppendTheIndexName() {
        decode("/docs/");
        path.appendIndex(OpenFileCache.INDEX);
        assertEquals("docs/index.html", decoded());
        decode("/");
        path.appendIndex(OpenFileCache.INDEX);
        assertEquals("index.html", decoded());
    }

    @Test
    void shouldKeepTheRawPathForARedirect() {
        String target = "/a%20b?q=1";
        decode(target);
        assertEquals(0, path.rawPathStart());
        assertEquals(6, path.rawPathEnd());
    }
}
