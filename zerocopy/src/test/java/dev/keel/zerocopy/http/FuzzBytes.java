package dev.keel.zerocopy.http;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Small helpers shared by the fuzz targets: fuzzer bytes copied into native memory (where the
 * parsers read them in production), and the ASCII-only string operations the reference
 * implementations use, so that no Unicode case folding sneaks into an oracle.
 */
final class FuzzBytes {
    private FuzzBytes() {
    }

    /** {@code bytes} in a native segment of exactly their length. */
    static MemorySegment copy(Arena arena, byte[] bytes) {
        MemorySegment m = arena.allocate(Math.max(1, bytes.length));
        MemorySegment.copy(bytes, 0, m, JAVA_BYTE, 0, bytes.length);
        return m.asSlice(0, bytes.length);
    }

    /** {@code [from, to)} of {@code s}, one char per byte. */
    static String text(MemorySegment s, long from, long to) {
        byte[] b = new byte[(int) (to - from)];
        MemorySegment.copy(s, JAVA_BYTE, from, b, 0, b.length);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** Lower case for A-Z only, as HTTP field names and tokens are compared. */
    static String asciiLower(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        }
        return b.toString();
    }

    /** {@code s} without leading and trailing spaces and tabs (RFC 9110 OWS), nothing else. */
    static String trimOws(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) {
            a++;
        }
        while (b > a && (s.charAt(b - 1) == ' ' || s.charAt(b - 1) == '\t')) {
            b--;
        }
        return s.substring(a, b);
    }

    /** The value of 1 to 18 ASCII digits, or -1 (the same bound the parsers use against overflow). */
    static long decimal(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(s);
    }
}
