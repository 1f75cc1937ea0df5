package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Byte-level helpers over off-heap text: case-insensitive comparison, token classes of
 * RFC 9110, decimal and hexadecimal numbers. Nothing here allocates; every method works on a
 * segment and a half-open range {@code [from, to)}.
 */
final class Ascii {
    static final byte CR = '\r';
    static final byte LF = '\n';
    static final byte SP = ' ';
    static final byte HT = '\t';

    /** RFC 9110 tchar: the characters of a token (method, header name). */
    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private Ascii() {
    }

    static int at(MemorySegment s, long i) {
        return s.get(JAVA_BYTE, i) & 0xFF;
    }

    static boolean isTchar(int b) {
        return TCHAR[b];
    }

    static int lower(int b) {
        return b >= 'A' && b <= 'Z' ? b + 32 : b;
    }

    /** True when {@code [from, to)} equals {@code lowerCaseWord} ignoring ASCII case. */
    static boolean equalsIgnoreCase(MemorySegment s, long from, long to, byte[] lowerCaseWord) {
        if (to - from != lowerCaseWord.length) {
            return false;
        }
        for (int i = 0; i < lowerCaseWord.length; i++) {
            if (lower(at(s, from + i)) != lowerCaseWord[i]) {
                return false;
            }
        }
        return true;
    }

    /** True when {@code [from, to)} equals {@code word} exactly. */
    static boolean equals(MemorySegment s, long from, long to, byte[] word) {
        if (to - from != word.length) {
            return false;
        }
        for (int i = 0; i < word.length; i++) {
            if (s.get(JAVA_BYTE, from + i) != word[i]) {
                return false;
            }
        }
        return true;
    }

    /** First index of {@code b} in {@code [from, to)}, or -1. */
    static long indexOf(MemorySegment s, long from, long to, byte b) {
        for (long i = from; i < to; i++) {
            if (s.get(JAVA_BYTE, i) == b) {
                return i;
            }
        }
        return -1;
    }

    /** {@code from} advanced past spaces and tabs, at most to {@code to}. */
    static long skipOws(MemorySegment s, long from, long to) {
        while (from < to) {
            byte b = s.get(JAVA_BYTE, from);
            if (b != SP && b != HT) {
                break;
            }
            from++;
        }
        return from;
    }

    /** {@code to} moved back over trailing spaces and tabs, at least to {@code from}. */
    static long trimOws(MemorySegment s, long from, long to) {
        while (to > from) {
            byte b = s.get(JAVA_BYTE, to - 1);
            if (b != SP && b != HT) {
                break;
            }
            to--;
        }
        return to;
    }

    /**
     * The non-negative decimal number in {@code [from, to)}, or -1 when the range is empty,
     * holds a non-digit, or has more than 18 digits (so it cannot overflow a long).
     */
    static long parseDecimal(MemorySegment s, long from, long to) {
        if (from >= to || to - from > 18) {
            return -1;
        }
        long v = 0;
        for (long i = from; i < to; i++) {
            int d = at(s, i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    /** The value of the hex digit {@code b}, or -1. */
    static int hexValue(int b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        int l = lower(b);
        if (l >= 'a' && l <= 'f') {
            return l - 'a' + 10;
        }
        return -1;
    }

    /** Writes the decimal digits of {@code v >= 0} at {@code at}; returns the offset after them. */
    static long putDecimal(MemorySegment s, long at, long v) {
        if (v == 0) {
            s.set(JAVA_BYTE, at, (byte) '0');
            return at + 1;
        }
        int digits = 0;
        for (long t = v; t != 0; t /= 10) {
            digits++;
        }
        for (int i = digits - 1; i >= 0; i--) {
            s.set(JAVA_BYTE, at + i, (byte) ('0' + v % 10));
            v /= 10;
        }
        return at + digits;
    }

    /** Writes the lower-case hex digits of {@code v} (unsigned) at {@code at}; returns the offset after them. */
    static long putHex(MemorySegment s, long at, long v) {
        int digits = Math.max(1, (64 - Long.numberOfLeadingZeros(v) + 3) / 4);
        for (int i = digits - 1; i >= 0; i--) {
            s.set(JAVA_BYTE, at + i, (byte) "0123456789abcdef".charAt((int) (v & 0xF)));
            v >>>= 4;
        }
        return at + digits;
    }

    /** Copies {@code bytes} to {@code at}; returns the offset after them. */
    static long put(MemorySegment s, long at, byte[] bytes) {
        MemorySegment.copy(bytes, 0, s, JAVA_BYTE, at, bytes.length);
        return at + bytes.length;
    }

    /** The ASCII bytes of {@code text}, for constants. */
    static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
