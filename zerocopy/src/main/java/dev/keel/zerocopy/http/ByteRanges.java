package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

/**
 * The Range header of a request (RFC 9110 14.1-14.2) resolved against a file's length: a
 * reusable holder of up to {@code capacity} inclusive ranges, filled by {@link #parse}
 * without allocation.
 *
 * <p>Outcomes: {@link #IGNORE} when the header is not a valid {@code bytes=} set or asks for
 * more ranges than allowed (the whole file is sent with 200, as the RFC permits);
 * {@link #UNSATISFIABLE} when no range overlaps the file (416); otherwise the number of
 * satisfiable ranges, clipped to the file. Several ranges that add up to more than the file
 * (overlapping requests, a classic amplification) are also answered with the whole file.
 */
final class ByteRanges {
    static final int IGNORE = -1;
    static final int UNSATISFIABLE = 0;

    private static final byte[] BYTES = Ascii.bytes("bytes");

    private final long[] first;
    private final long[] last;
    private int count;

    ByteRanges(int capacity) {
        first = new long[capacity];
        last = new long[capacity];
    }

    int count() {
        return count;
    }

    long first(int i) {
        return first[i];
    }

    /** Inclusive end of range {@code i}. */
    long last(int i) {
        return last[i];
    }

    long length(int i) {
        return last[i] - first[i] + 1;
    }

    /** Resolves the header value {@code [from, to)} against a file of {@code size} bytes. */
    int parse(MemorySegment s, long from, long to, long size) {
        count = 0;
        long eq = Ascii.indexOf(s, from, to, (byte) '=');
        if (eq < 0 || !Ascii.equalsIgnoreCase(s, from, Ascii.trimOws(s, from, eq), BYTES)) {
            return IGNORE;
        }
        long p = eq + 1;
        boolean any = false;
        long total = 0;
        while (p <= to) {
            long comma = Ascii.indexOf(s, p, to, (byte) ',');
            long specEnd = comma < 0 ? to : comma;
            long ss = Ascii.skipOws(s, p, specEnd);
            long se = Ascii.trimOws(s, ss, specEnd);
            p = specEnd + 1;
            if (ss == se) {
                continue; // empty list element, allowed by the # rule
            }
            long dash = Ascii.indexOf(s, ss, se, (byte) '-');
            if (dash < 0) {
                return IGNORE;
            }
            long a;
            long b;
            if (dash == ss) {
                long suffix = Ascii.parseDecimal(s, dash + 1, se);
                if (suffix < 0) {
                    return IGNORE;
                }
                any = true;
                if (suffix == 0 || size == 0) {
                    continue;
                }
                a = Math.max(0, size - suffix);
                b = size - 1;
            } else {
                a = Ascii.parseDecimal(s, ss, dash);
                b = dash + 1 == se ? Long.MAX_VALUE : Ascii.parseDecimal(s, dash + 1, se);
                if (a < 0 || b < 0 || b < a) {
                    return IGNORE;
                }
                any = true;
                if (a >= size) {
                    continue;
                }
                b = Math.min(b, size - 1);
            }
            if (count == first.length) {
                return IGNORE;
            }
            first[count] = a;
            last[count] = b;
            count++;
            total += b - a + 1;
        }
        if (!any) {
            return IGNORE;
        }
        if (count > 1 && total > size) {
            count = 0;
            return IGNORE;
        }
        return count;
    }
}
