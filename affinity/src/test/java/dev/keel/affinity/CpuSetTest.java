package dev.keel.affinity;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpulist and hex-mask parsers, held to independent oracles over many random sets
 * (fixed seed, so a failure reproduces) plus the kernel's own examples.
 */
class CpuSetTest {
    private static final long SEED = 0x6b65656cL;
    private static final int ROUNDS = 500;

    /** A random set: sizes up to 8192 CPUs, densities from sparse to nearly full, with runs. */
    private static BitSet randomBits(Random rnd) {
        int universe = 1 + rnd.nextInt(rnd.nextBoolean() ? 70 : 8192);
        double density = rnd.nextDouble();
        BitSet b = new BitSet();
        int cpu = 0;
        while (cpu < universe) {
            int run = 1 + rnd.nextInt(rnd.nextInt(16) + 1);
            if (rnd.nextDouble() < density) {
                b.set(cpu, Math.min(universe, cpu + run));
            }
            cpu += run;
        }
        return b;
    }

    /** The mask an independent route prints: BigInteger hex, cut into 8-digit groups from the right. */
    private static String oracleMask(BitSet b) {
        String hex = b.isEmpty() ? "0" : new BigInteger(1, reverse(b.toByteArray())).toString(16);
        StringBuilder sb = new StringBuilder();
        for (int end = hex.length(); end > 0; end -= 8) {
            sb.insert(0, hex.substring(Math.max(0, end - 8), end));
            if (end - 8 > 0) {
                sb.insert(0, ',');
            }
        }
        return sb.toString();
    }

    private static byte[] reverse(byte[] littleEndian) {
        byte[] r = new byte[littleEndian.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = littleEndian[r.length - 1 - i];
        }
        return r;
    }

    /** The cpulist an independent route prints: one entry per CPU, joined by the oracle's rules. */
    private static String oracleList(BitSet b) {
        List<String> parts = new ArrayList<>();
        int[] cpus = b.stream().toArray();
        for (int i = 0; i < cpus.length; ) {
            int j = i;
            while (j + 1 < cpus.length && cpus[j + 1] == cpus[j] + 1) {
                j++;
            }
            parts.add(i == j ? Integer.toString(cpus[i]) : cpus[i] + "-" + cpus[j]);
            i = j + 1;
        }
        return String.join(",", parts);
    }

    @Test
    void shouldRoundTripRandomSetsThroughTheCpulist() {
        Random rnd = new Random(SEED);
        for (int round = 0; round < ROUNDS; round++) {
            BitSet bits = randomBits(rnd);
            CpuSet set = CpuSet.of(bits);
            String list = set.toList();
            assertEquals(oracleList(bits), list, "round " + round);
            assertEquals(set, CpuSet.parseList(list), "round " + round + ": " + list);
            assertEquals(bits.cardinality(), set.size());
        }
    }

    @Test
    void shouldRoundTripRandomSetsThroughTheHexMask() {
        Random rnd = new Random(SEED + 1);
        for (int round = 0; round < ROUNDS; round++) {
            BitSet bits = randomBits(rnd);
            CpuSet set = CpuSet.of(bits);
            String mask = set.toMask();
            assertEquals(oracleMask(bits), mask, "round " + round);
            assertEquals(set, CpuSet.parseMask(mask), "round " + round + ": " + mask);
            int nbits = Math.max(1, bits.length()) + rnd.nextInt(300);
            assertEquals(set, CpuSet.parseMask(set.toMask(nbits)), "round " + round + " padded to " + nbits);
        }
    }

    @Test
    void shouldParseAnyWayOfWritingTheSameSet() {
        Random rnd = new Random(SEED + 2);
        for (int round = 0; round < ROUNDS; round++) {
            BitSet bits = randomBits(rnd);
            // Non-canonical: every CPU or a sub-range of it, shuffled, some repeated, some "a-a".
            List<String> parts = new ArrayList<>();
            int[] cpus = bits.stream().toArray();
            for (int i = 0; i < cpus.length; ) {
                int j = i;
                while (j + 1 < cpus.length && cpus[j + 1] == cpus[j] + 1 && rnd.nextInt(4) != 0) {
                    j++;
                }
                parts.add(rnd.nextInt(5) == 0 ? cpus[i] + "-" + cpus[j] : i == j ? "" + cpus[i] : cpus[i] + "-" + cpus[j]);
                if (rnd.nextInt(10) == 0) {
                    parts.add(Integer.toString(cpus[i]));
                }
                i = j + 1;
            }
            Collections.shuffle(parts, rnd);
            String text = (rnd.nextBoolean() ? " " : "") + String.join(",", parts) + "\n";
            assertEquals(CpuSet.of(bits), CpuSet.parseList(text), "round " + round + ": " + text);
        }
    }

    @Test
    void shouldAgreeBetweenListAndMaskOnRandomSets() {
        Random rnd = new Random(SEED + 3);
        for (int round = 0; round < ROUNDS; round++) {
            CpuSet set = CpuSet.of(randomBits(rnd));
            assertEquals(CpuSet.parseList(set.toList()), CpuSet.parseMask(set.toMask()), "round " + round);
        }
    }

    /** Regression (CpuSetFuzzTest): a mask took any Unicode digit, "\u0663" (Arabic-Indic three) read as CPUs 0-1. */
    @Test
    void shouldRefuseNonAsciiDigitsInAMask() {
        assertThrows(IllegalArgumentException.class, () -> CpuSet.parseMask("\u0663"));
        assertThrows(IllegalArgumentException.class, () -> CpuSet.parseMask("ff,\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff11"));
        assertEquals(CpuSet.of(0, 1, 32), CpuSet.parseMask("1,00000003"));
    }

    @Test
    void shouldReadTheKernelsOwnExamples() {
        assertEquals(CpuSet.of(0, 1, 2, 3, 8, 10, 11), CpuSet.parseList("0-3,8,10-11"));
        assertEquals(CpuSet.of(0, 32), CpuSet.parseMask("00000001,00000001"));
        assertEquals(CpuSet.range(0, 31).with(32), CpuSet.parseMask("1,ffffffff"));
        assertEquals(CpuSet.of(0), CpuSet.parseMask("ffffffff,00000001").and(CpuSet.range(0, 31)));
        assertEquals(CpuSet.range(32, 63).with(0), CpuSet.parseMask("ffffffff,00000001"));
        assertEquals(CpuSet.of(0, 1, 4, 5, 8, 9, 12, 13), CpuSet.parseList("0-15:2/4"), "strided form");
        assertEquals(CpuSet.empty(), CpuSet.parseList("\n"), "an empty sysfs file (no isolated CPUs)");
        assertEquals("3", CpuSet.of(0, 1).toMask(2), "2 bits print as one digit, as core_siblings does");
        assertEquals("0000,00000003", CpuSet.of(0, 1).toMask(48));
        assertEquals("ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,ffffffff,"
                + "ffffffff,ffffffff,ffffffff,ffffffff", CpuSet.range(0, 383).toMask(384), "384 CPUs, no cap");
        assertEquals("0", CpuSet.empty().toMask());
        assertEquals("", CpuSet.empty().toList());
    }

    @Test
    void shouldRefuseMalformedTextNamingIt() {
        for (String bad : new String[] {"3-1", "a", "1,,2", "-1", "1-", "1 2", "0-7:0/4", "0-7:3/2", "5:1/2",
                "99999999999", "4194304"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuSet.parseList(bad), bad);
            assertTrue(e.getMessage().startsWith("bad cpulist '" + bad.strip() + "'"), e.getMessage());
        }
        for (String bad : new String[] {"", "g", "123456789", "ff,,ff", ",1", "0x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuSet.parseMask(bad), bad);
            assertTrue(e.getMessage().contains("mask"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> CpuSet.of(-1));
    }
}
