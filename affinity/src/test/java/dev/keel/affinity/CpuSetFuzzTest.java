package dev.keel.affinity;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.keel.ffm.KernelLists;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the two CPU set notations keel reads from sysfs, cgroup files and the command line:
 * the cpulist ({@code "0-3,8,0-15:2/4"}) and the hex mask ({@code "ff,00000001"}). The input
 * bytes are read as UTF-8 text, so that non-ASCII digits and spaces are reached.
 *
 * <p>Oracles: each parser either throws {@link IllegalArgumentException} or returns the set
 * that {@link #referenceList} / {@link #referenceMask} (regular expressions over ASCII, the
 * kernel's bitmap_parselist rules) compute, and refuses exactly when the reference does;
 * whatever is parsed prints back, in both notations, to text that parses to the same set.
 */
class CpuSetFuzzTest {
    private static final Pattern LIST_PART = Pattern.compile("([0-9]+)(?:-([0-9]+)(?::([0-9]+)/([0-9]+))?)?");
    private static final Pattern MASK_GROUP = Pattern.compile("[0-9a-fA-F]{1,8}");
    /** Longer inputs only repeat what shorter ones reach, at the price of huge strided sets. */
    private static final int MAX_INPUT = 256;
    private static final int ROUND_TRIP_UP_TO = 1 << 16;

    @FuzzTest
    void shouldParseBothNotationsLikeTheReference(byte[] input) {
        if (input.length > MAX_INPUT) {
            return;
        }
        String text = new String(input, StandardCharsets.UTF_8);
        check(referenceList(text), () -> CpuSet.parseList(text));
        check(referenceMask(text), () -> CpuSet.parseMask(text));
    }

    private static void check(BitSet expected, java.util.function.Supplier<CpuSet> parse) {
        CpuSet got;
        try {
            got = parse.get();
        } catch (IllegalArgumentException e) {
            assertEquals(null, expected, "refused: " + e.getMessage());
            return;
        }
        assertEquals(expected, got.toBitSet());
        if (got.size() > 0 && got.last() > ROUND_TRIP_UP_TO) {
            return; // a mask of millions of bits costs more time than it finds
        }
        assertEquals(got, CpuSet.parseList(got.toList()), "cpulist round trip");
        assertEquals(got, CpuSet.parseMask(got.toMask()), "mask round trip");
        assertTrue(got.toList().isEmpty() == got.isEmpty());
    }

    /** The cpulist's set, or null when it must be refused. */
    static BitSet referenceList(String text) {
        BitSet b = new BitSet();
        String s = text.strip();
        if (s.isEmpty()) {
            return b;
        }
        for (String part : s.split(",", -1)) {
            Matcher m = LIST_PART.matcher(part.strip());
            if (!m.matches()) {
                return null;
            }
            long first = id(m.group(1));
            long last = m.group(2) == null ? first : id(m.group(2));
            if (first < 0 || last < first) {
                return null;
            }
            long used = m.group(3) == null ? 1 : id(m.group(3));
            long group = m.group(4) == null ? 1 : id(m.group(4));
            if (used <= 0 || group <= 0 || used > group) {
                return null;
            }
            for (long start = first; start <= last; start += group) {
                b.set((int) start, (int) Math.min(start + used - 1, last) + 1); // the first "used" of each group
            }
        }
        return b;
    }

    /** The hex mask's set, or null when it must be refused. */
    static BitSet referenceMask(String text) {
        String s = text.strip();
        if (s.startsWith("0x") || s.startsWith("0X")) {
            s = s.substring(2);
        }
        String[] groups = s.split(",", -1);
        if (s.isEmpty() || (long) groups.length * 32 > KernelLists.MAX_ID + 1L) {
            return null;
        }
        BitSet b = new BitSet();
        for (int i = 0; i < groups.length; i++) {
            if (!MASK_GROUP.matcher(groups[i]).matches()) {
                return null;
            }
            long value = Long.parseLong(groups[i], 16);
            for (int bit = 0; bit < 32; bit++) {
                if ((value >>> bit & 1) != 0) {
                    b.set((groups.length - 1 - i) * 32 + bit);
                }
            }
        }
        return b;
    }

    /** A decimal id up to {@link KernelLists#MAX_ID}, or -1 past it. */
    private static long id(String digits) {
        BigInteger v = new BigInteger(digits);
        return v.compareTo(BigInteger.valueOf(KernelLists.MAX_ID)) > 0 ? -1 : v.longValue();
    }
}
