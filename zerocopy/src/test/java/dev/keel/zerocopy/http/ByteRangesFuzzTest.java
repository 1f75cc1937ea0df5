package dev.keel.zerocopy.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the Range header against a file length. An input is {@code "<length>\n<header value>"}
 * (a value alone is resolved against {@value #DEFAULT_SIZE} bytes), so that the corpus reads
 * as what it is.
 *
 * <p>Oracles: the answer is "ignore" (whole file, 200), "unsatisfiable" (416) or 1 to
 * {@value #CAPACITY} ranges that lie inside the file, first before last; several ranges never
 * add up to more than the file (the amplification guard); and the answer equals
 * {@link #reference}'s, a regular-expression reading of RFC 9110 14.1.2 with the same policy.
 */
class ByteRangesFuzzTest {
    static final int CAPACITY = 4;
    static final long DEFAULT_SIZE = 10_000;
    private static final Pattern SPEC = Pattern.compile("([0-9]*)-([0-9]*)");

    @FuzzTest
    void shouldKeepEveryRangeInsideTheFile(byte[] input) {
        String text = FuzzBytes.latin1(input);
        int nl = text.indexOf('\n');
        long size = nl < 0 ? DEFAULT_SIZE : FuzzBytes.decimal(text.substring(0, nl));
        if (size < 0) {
            return; // not a length: nothing to resolve against
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = FuzzBytes.copy(arena, input);
            ByteRanges ranges = new ByteRanges(CAPACITY);
            int n = ranges.parse(in, nl + 1, input.length, size);
            assertTrue(n >= ByteRanges.IGNORE && n <= CAPACITY, "count " + n);
            long total = 0;
            List<long[]> got = new ArrayList<>();
            for (int i = 0; i < Math.max(0, n); i++) {
                long first = ranges.first(i);
                long last = ranges.last(i);
                assertTrue(0 <= first && first <= last && last < size, first + "-" + last + " of " + size);
                assertEquals(last - first + 1, ranges.length(i));
                total += ranges.length(i);
                got.add(new long[] {first, last});
            }
            assertTrue(n <= 1 || total <= size, "ranges of " + total + " bytes in a file of " + size);
            assertEquals(reference(text.substring(nl + 1), size), describe(n, got), text);
        }
    }

    private static String describe(int count, List<long[]> ranges) {
        if (count == ByteRanges.IGNORE) {
            return "ignore";
        }
        if (count == ByteRanges.UNSATISFIABLE) {
            return "unsatisfiable";
        }
        StringBuilder b = new StringBuilder();
        for (long[] r : ranges) {
            b.append(r[0]).append('-').append(r[1]).append(' ');
        }
        return b.toString();
    }

    /** RFC 9110 14.1.2 ranges-specifier, clipped to {@code size}, with the server's policy on top. */
    static String reference(String value, long size) {
        int eq = value.indexOf('=');
        if (eq < 0 || !FuzzBytes.asciiLower(value.substring(0, eq)).matches("bytes[ \t]*")) {
            return "ignore";
        }
        List<long[]> kept = new ArrayList<>();
        boolean any = false;
        for (String element : value.substring(eq + 1).split(",", -1)) {
            String spec = FuzzBytes.trimOws(element);
            if (spec.isEmpty()) {
                continue; // empty list elements are allowed (RFC 9110 5.6.1)
            }
            Matcher m = SPEC.matcher(spec);
            if (!m.matches() || m.group(1).isEmpty() && m.group(2).isEmpty()) {
                return "ignore";
            }
            long first;
            long last;
            if (m.group(1).isEmpty()) {
                long suffix = FuzzBytes.decimal(m.group(2));
                if (suffix < 0) {
                    return "ignore";
                }
                any = true;
                if (suffix == 0 || size == 0) {
                    continue; // satisfies nothing
                }
                first = Math.max(0, size - suffix);
                last = size - 1;
            } else {
                first = FuzzBytes.decimal(m.group(1));
                last = m.group(2).isEmpty() ? Long.MAX_VALUE : FuzzBytes.decimal(m.group(2));
                if (first < 0 || last < 0 || last < first) {
                    return "ignore";
                }
                any = true;
                if (first >= size) {
                    continue;
                }
                last = Math.min(last, size - 1);
            }
            if (kept.size() == CAPACITY) {
                return "ignore"; // more ranges than served: the whole file instead
            }
            kept.add(new long[] {first, last});
        }
        if (!any) {
            return "ignore";
        }
        long total = kept.stream().mapToLong(r -> r[1] - r[0] + 1).sum();
        if (kept.size() > 1 && total > size) {
            return "ignore"; // overlapping ranges adding up past the file
        }
        return describe(kept.isEmpty() ? ByteRanges.UNSATISFIABLE : kept.size(), kept);
    }
}
