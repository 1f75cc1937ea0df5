package dev.keel.zerocopy.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the request-target to file-path step (percent-decoding, UTF-8, dot segments), the
 * first barrier against path traversal, with raw bytes.
 *
 * <p>Oracles: the result is OK, 400 or 414 and agrees with {@link #reference}, a plain
 * re-statement on Strings (the JDK's strict UTF-8 decoder, a segment stack); an accepted path
 * never escapes the root: it has no leading slash, no empty, "." or ".." segment, no NUL,
 * backslash or control byte, is well-formed UTF-8, fits the limit and is NUL-terminated;
 * {@link Utf8#isWellFormed} agrees with the JDK decoder on the raw bytes; the index name
 * appends where it should; a {@link PathKey} probe equals its stored copy.
 */
class RequestPathFuzzTest {
    static final int MAX_PATH = 64;
    private static final byte[] INDEX = Ascii.bytes("index.html");

    @FuzzTest
    void shouldNeverLeaveTheRootAndAgreeWithTheReference(byte[] input) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = FuzzBytes.copy(arena, input);
            assertEquals(strictUtf8(input), Utf8.isWellFormed(in, 0, input.length), "UTF-8 well-formedness");
            RequestPath path = new RequestPath(arena.allocate(MAX_PATH + 64), MAX_PATH);
            int status = path.decode(in, 0, input.length);
            String expected = reference(FuzzBytes.latin1(input), MAX_PATH);
            if (status != RequestPath.OK) {
                assertTrue(status == 400 || status == 414, "status " + status);
                assertEquals(expected, "E" + status);
                return;
            }
            String decoded = FuzzBytes.text(path.buffer(), 0, path.length());
            assertEquals(expected, ok(decoded, path.trailingSlash(), path.rawPathStart(), path.rawPathEnd()));
            checkInsideTheRoot(path);
            checkKey(path);
            if (path.trailingSlash()) {
                path.appendIndex(INDEX);
                String withIndex = FuzzBytes.text(path.buffer(), 0, path.length());
                assertEquals(decoded.equals(".") ? "index.html" : decoded + "/index.html", withIndex);
                assertEquals(0, path.buffer().get(JAVA_BYTE, path.length()));
            }
        }
    }

    private static void checkInsideTheRoot(RequestPath path) {
        MemorySegment b = path.buffer();
        int n = path.length();
        assertTrue(n >= 1 && n <= MAX_PATH, "length " + n);
        assertEquals(0, b.get(JAVA_BYTE, n), "NUL-terminated");
        for (int i = 0; i < n; i++) {
            int c = b.get(JAVA_BYTE, i) & 0xFF;
            assertFalse(c < 0x20 || c == 0x7F || c == '\\', "byte " + c + " at " + i);
        }
        assertTrue(Utf8.isWellFormed(b, 0, n));
        String p = FuzzBytes.text(b, 0, n);
        if (p.equals(".")) {
            assertTrue(path.trailingSlash(), "the root is a directory");
            return;
        }
        for (String segment : p.split("/", -1)) {
            assertFalse(segment.isEmpty() || segment.equals(".") || segment.equals(".."), "segment '" + segment + "' in " + p);
        }
    }

    private static void checkKey(RequestPath path) {
        PathKey probe = new PathKey().set(path.buffer(), path.length(), path.trailingSlash());
        PathKey stored = probe.copy();
        assertTrue(probe.equals(stored) && stored.equals(probe) && probe.hashCode() == stored.hashCode());
        assertFalse(stored.equals(new PathKey().set(path.buffer(), path.length(), !path.trailingSlash())));
    }

    private static String ok(String path, boolean slash, long rawStart, long rawEnd) {
        return "OK " + path + " slash=" + slash + " raw=" + rawStart + "-" + rawEnd;
    }

    /** What decoding {@code target} must give: "OK ..." as {@link #ok} writes it, or "E400" / "E414". */
    static String reference(String target, int maxPath) {
        int start = 0;
        if (!target.startsWith("/")) {
            int colon = target.indexOf(':');
            if (colon < 0 || !target.startsWith("//", colon + 1)) {
                return "E400";
            }
            String scheme = FuzzBytes.asciiLower(target.substring(0, colon));
            int slash = target.indexOf('/', colon + 3);
            if (!scheme.equals("http") && !scheme.equals("https") || slash == colon + 3) {
                return "E400"; // another scheme, or no authority
            }
            start = slash < 0 ? target.length() : slash;
        }
        int end = start;
        while (end < target.length() && target.charAt(end) != '?' && target.charAt(end) != '#') {
            end++;
        }
        if (start == end) {
            return ok(".", true, start, end);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = start; i < end; i++) {
            int b = target.charAt(i);
            if (b == '%') {
                if (i + 2 >= end || !HexFormat.isHexDigit(target.charAt(i + 1)) || !HexFormat.isHexDigit(target.charAt(i + 2))) {
                    return "E400";
                }
                b = HexFormat.fromHexDigits(target, i + 1, i + 3);
                i += 2;
            }
            if (b < 0x20 || b == 0x7F || b == '\\') {
                return "E400";
            }
            if (out.size() >= maxPath) {
                return "E414";
            }
            out.write(b);
        }
        byte[] decoded = out.toByteArray();
        if (!strictUtf8(decoded)) {
            return "E400";
        }
        Deque<String> kept = new ArrayDeque<>();
        String[] segments = FuzzBytes.latin1(decoded).split("/", -1);
        for (String s : segments) {
            if (s.equals("..")) {
                if (kept.isEmpty()) {
                    return "E400";
                }
                kept.removeLast();
            } else if (!s.isEmpty() && !s.equals(".")) {
                kept.addLast(s);
            }
        }
        String last = segments[segments.length - 1];
        boolean dir = last.isEmpty() || last.equals(".") || last.equals("..") || kept.isEmpty();
        return ok(kept.isEmpty() ? "." : String.join("/", kept), dir, start, end);
    }

    /** The JDK's own strict decoder: overlong forms, surrogates and values past U+10FFFF are errors. */
    static boolean strictUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
