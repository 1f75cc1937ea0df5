package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Content negotiation for precompressed files (RFC 9110 12.5.3, Accept-Encoding): which of the
 * codings keel knows, brotli ({@code br}), zstandard ({@code zstd}) and gzip, the client takes,
 * in order of preference.
 *
 * <p>Each listed coding gets its quality value (q, 0 to 1 with up to three decimals; 1 when
 * absent); a coding not listed gets the value of {@code *}, or 0 without one; {@code q=0}
 * refuses. {@code x-gzip} counts as gzip (RFC 9110 8.4.1.3). Codings the client takes are
 * tried from the highest q down, ties broken by the server's order br, zstd, gzip (smallest
 * files first). No heap allocation: the preferences come back packed in an int.
 */
final class ContentCoding {
    static final int IDENTITY = -1;
    static final int BR = 0;
    static final int ZSTD = 1;
    static final int GZIP = 2;
    static final int COUNT = 3;
    /** The tokens as the Content-Encoding header names them, by coding. */
    static final byte[][] NAMES = {Ascii.bytes("br"), Ascii.bytes("zstd"), Ascii.bytes("gzip")};
    /** The file name suffix of each coding's variant. */
    static final byte[][] SUFFIXES = {Ascii.bytes(".br"), Ascii.bytes(".zst"), Ascii.bytes(".gz")};
    private static final byte[] X_GZIP = Ascii.bytes("x-gzip");
    private static final int Q_BITS = 11;
    private static final long Q_MASK = (1L << Q_BITS) - 1;
    /** Not listed (yet): fits the field, above any real quality. */
    private static final int UNSET = (int) Q_MASK;
    private static final long ALL_UNSET = (1L << (Q_BITS * COUNT)) - 1;

    private ContentCoding() {
    }

    /**
     * The codings the client accepts, best first, packed 4 bits per place (low bits first;
     * {@code 0xF} ends the list): pass to {@link #at}. Empty when the field is absent.
     */
    static int preferences(MemorySegment s, long from, long to) {
        if (from == HttpRequest.NONE) {
            return 0xFFFF;
        }
        return order(qualities(s, from, to));
    }

    /** The coding at place {@code i} of {@code packed}, or {@link #IDENTITY} past the last. */
    static int at(int packed, int i) {
        int c = packed >>> (4 * i) & 0xF;
        return c == 0xF ? IDENTITY : c;
    }

    /** The quality of {@code coding} (0..1000) in what {@link #qualities} returns. */
    static int quality(long qualities, int coding) {
        return (int) (qualities >>> (Q_BITS * coding) & Q_MASK);
    }

    /**
     * Quality per coding (0..1000), packed {@link #Q_BITS} bits per coding in coding order,
     * from the list [from, to): so that a request allocates nothing.
     */
    static long qualities(MemorySegment s, long from, long to) {
        long q = ALL_UNSET;
        int star = UNSET;
        long p = from;
        while (p < to) {
            long end = Ascii.indexOf(s, p, to, (byte) ',');
            if (end < 0) {
                end = to;
            }
            long semi = Ascii.indexOf(s, p, end, (byte) ';');
            long nameEnd = semi < 0 ? end : semi;
            long nameStart = Ascii.skipOws(s, p, nameEnd);
            nameEnd = Ascii.trimOws(s, nameStart, nameEnd);
            int quality = semi < 0 ? 1000 : quality(s, semi + 1, end);
            if (nameEnd - nameStart == 1 && s.get(JAVA_BYTE, nameStart) == '*') {
                star = quality;
            } else if (Ascii.equalsIgnoreCase(s, nameStart, nameEnd, X_GZIP)) {
                q = raise(q, GZIP, quality);
            } else {
                for (int c = 0; c < COUNT; c++) {
                    if (Ascii.equalsIgnoreCase(s, nameStart, nameEnd, NAMES[c])) {
                        q = raise(q, c, quality);
                    }
                }
            }
            p = end + 1;
        }
        for (int c = 0; c < COUNT; c++) {
            if (quality(q, c) == UNSET) {
                q = set(q, c, star == UNSET ? 0 : star);
            }
        }
        return q;
    }

    private static long raise(long q, int coding, int quality) {
        int now = quality(q, coding);
        return now == UNSET || quality > now ? set(q, coding, quality) : q;
    }

    private static long set(long q, int coding, int quality) {
        int shift = Q_BITS * coding;
        return q & ~(Q_MASK << shift) | (long) quality << shift;
    }

    /** The q parameter among {@code [from, to)} ({@code q=0.5; other=x}), 1000 when absent, 0 when malformed. */
    private static int quality(MemorySegment s, long from, long to) {
        long p = Ascii.skipOws(s, from, to);
        while (p < to) {
            long end = Ascii.indexOf(s, p, to, (byte) ';');
            if (end < 0) {
                end = to;
            }
            long a = Ascii.skipOws(s, p, end);
            if (end - a >= 2 && (s.get(JAVA_BYTE, a) | 0x20) == 'q' && s.get(JAVA_BYTE, a + 1) == '=') {
                return parseQ(s, a + 2, Ascii.trimOws(s, a + 2, end));
            }
            p = end + 1;
        }
        return 1000;
    }

    /** RFC 9110 12.4.2 qvalue: {@code 0[.ddd]} or {@code 1[.000]}, as thousandths; malformed: 0 (refused). */
    static int parseQ(MemorySegment s, long from, long to) {
        if (from >= to || to - from > 5) {
            return 0;
        }
        int whole = s.get(JAVA_BYTE, from) - '0';
        if (whole != 0 && whole != 1) {
            return 0;
        }
        int value = whole * 1000;
        if (to - from > 1) {
            if (s.get(JAVA_BYTE, from + 1) != '.') {
                return 0;
            }
            int scale = 100;
            for (long i = from + 2; i < to; i++) {
                int d = s.get(JAVA_BYTE, i) - '0';
                if (d < 0 || d > 9) {
                    return 0;
                }
                value += d * scale;
                scale /= 10;
            }
        }
        return Math.min(value, 1000) == value ? value : 0;
    }

    /** Codings with q > 0, highest q first, ties in the server's order; packed as {@link #preferences} says. */
    static int order(long q) {
        int packed = 0xFFFF;
        int taken = 0;
        for (int place = 0; place < COUNT; place++) {
            int best = IDENTITY;
            for (int c = 0; c < COUNT; c++) {
                if ((taken & 1 << c) == 0 && quality(q, c) > 0 && (best == IDENTITY || quality(q, c) > quality(q, best))) {
                    best = c;
                }
            }
            if (best == IDENTITY) {
                break;
            }
            taken |= 1 << best;
            packed = packed & ~(0xF << (4 * place)) | best << (4 * place);
        }
        return packed;
    }
}
