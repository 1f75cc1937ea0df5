package dev.keel.affinity;

import dev.keel.ffm.KernelLists;

import java.util.BitSet;
import java.util.stream.IntStream;

/**
 * An immutable set of CPU numbers, with the two text forms the kernel uses for one:
 * the cpulist ({@code "0-3,8,10-11"}, see "cpulist" in the kernel's admin-guide/kernel-parameters)
 * and the hex mask ({@code "ffffffff,00000001"}: 32-bit groups, most significant first, as
 * sysfs {@code *_cpus} files and {@code Cpus_allowed} print it). No size cap: a set holds
 * whatever CPU numbers it is given.
 */
public final class CpuSet {
    private static final CpuSet EMPTY = new CpuSet(new BitSet());
    /** Bits per comma-separated group of a hex mask (the kernel's bitmap_print_to_pagebuf). */
    private static final int GROUP_BITS = 32;
    private static final int GROUP_DIGITS = GROUP_BITS / 4;
    /** Highest CPU number text may name (see {@link KernelLists#MAX_ID}). */
    static final int MAX_PARSED_CPU = KernelLists.MAX_ID;

    private final BitSet bits;

    private CpuSet(BitSet bits) {
        this.bits = bits;
    }

    /** The empty set. */
    public static CpuSet empty() {
        return EMPTY;
    }

    /** The set of {@code cpus}. */
    public static CpuSet of(int... cpus) {
        BitSet b = new BitSet();
        for (int cpu : cpus) {
            b.set(checkCpu(cpu));
        }
        return new CpuSet(b);
    }

    /** CPUs {@code first} to {@code last}, both included. */
    public static CpuSet range(int first, int last) {
        if (last < first) {
            throw new IllegalArgumentException("range " + first + "-" + last + " ends before it starts");
        }
        BitSet b = new BitSet();
        b.set(checkCpu(first), checkCpu(last) + 1);
        return new CpuSet(b);
    }

    /** The CPUs set in {@code bits} (copied). */
    public static CpuSet of(BitSet bits) {
        return new CpuSet((BitSet) bits.clone());
    }

    private static int checkCpu(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("CPU number " + cpu + " is negative");
        }
        return cpu;
    }

    /**
     * Parses a cpulist: comma-separated CPUs and ranges {@code a-b}, also the kernel's strided
     * form {@code a-b:used/group} ({@code "0-15:2/4"} = 0,1,4,5,8,9,12,13). Surrounding white
     * space and a trailing newline are ignored; an empty string is the empty set.
     *
     * @throws IllegalArgumentException naming the input and the bad part
     */
    public static CpuSet parseList(String text) {
        return new CpuSet(KernelLists.parse(text, "cpulist"));
    }

    /**
     * Parses a hex mask: groups of at most 8 hex digits separated by commas, the most
     * significant group first ({@code "ff,00000001"} is CPUs 0 and 32-39). An optional
     * {@code 0x} prefix and surrounding white space are ignored.
     *
     * @throws IllegalArgumentException naming the input and the bad group
     */
    public static CpuSet parseMask(String text) {
        return new CpuSet(KernelLists.parseMask(text));
    }

    /** The canonical cpulist: ascending, ranges of 2 or more joined with '-'; "" when empty. */
    public String toList() {
        return KernelLists.format(bits);
    }

    /** The hex mask with just enough groups for the highest CPU ("0" when empty). */
    public String toMask() {
        return toMask(Math.max(1, bits.length()));
    }

    /**
     * The hex mask as the kernel prints a bitmap of {@code nbits} bits: full 8-digit groups,
     * the leading group only as wide as its share of {@code nbits} needs.
     */
    public String toMask(int nbits) {
        if (nbits < bits.length()) {
            throw new IllegalArgumentException(nbits + " bits cannot hold CPU " + last());
        }
        int groups = Math.max(1, (nbits + GROUP_BITS - 1) / GROUP_BITS);
        int leadBits = nbits - (groups - 1) * GROUP_BITS;
        long[] words = bits.toLongArray();
        StringBuilder sb = new StringBuilder();
        for (int g = groups - 1; g >= 0; g--) {
            int word = g / 2;
            long value = word < words.length ? words[word] >>> (g % 2 * GROUP_BITS) & 0xffff_ffffL : 0;
            int width = g == groups - 1 ? Math.max(1, (leadBits + 3) / 4) : GROUP_DIGITS;
            String hex = Long.toHexString(value);
            sb.append("0".repeat(Math.max(0, width - hex.length()))).append(hex);
            if (g > 0) {
                sb.append(',');
            }
        }
        return sb.toString();
    }

    /** Whether {@code cpu} is in the set (false for a negative number). Constant time. */
    public boolean contains(int cpu) {
        return cpu >= 0 && bits.get(cpu);
    }

    /** How many CPUs the set holds. Counts bits: time in proportion to the highest CPU / 64. */
    public int size() {
        return bits.cardinality();
    }

    /** Whether the set holds no CPU. */
    public boolean isEmpty() {
        return bits.isEmpty();
    }

    /** The lowest CPU, or -1 when empty. */
    public int first() {
        return bits.nextSetBit(0);
    }

    /** The highest CPU, or -1 when empty. */
    public int last() {
        return bits.length() - 1;
    }

    /** The CPUs in ascending order. */
    public IntStream stream() {
        return bits.stream();
    }

    /** The CPUs in ascending order, in a new array. */
    public int[] toArray() {
        return bits.stream().toArray();
    }

    /** A copy as a {@link BitSet} (the word layout of a kernel cpu mask). */
    public BitSet toBitSet() {
        return (BitSet) bits.clone();
    }

    /** The CPUs in both sets: a new set, this one unchanged. */
    public CpuSet and(CpuSet other) {
        BitSet b = toBitSet();
        b.and(other.bits);
        return new CpuSet(b);
    }

    /** The CPUs in either set: a new set, this one unchanged. */
    public CpuSet or(CpuSet other) {
        BitSet b = toBitSet();
        b.or(other.bits);
        return new CpuSet(b);
    }

    /** The CPUs of this set that are not in {@code other}: a new set, this one unchanged. */
    public CpuSet andNot(CpuSet other) {
        BitSet b = toBitSet();
        b.andNot(other.bits);
        return new CpuSet(b);
    }

    /** This set plus {@code cpu} (which must be 0 or more): a new set, this one unchanged. */
    public CpuSet with(int cpu) {
        BitSet b = toBitSet();
        b.set(checkCpu(cpu));
        return new CpuSet(b);
    }

    /** Whether every CPU of {@code other} is in this set. Allocates one temporary set. */
    public boolean containsAll(CpuSet other) {
        return other.andNot(this).isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuSet c && bits.equals(c.bits);
    }

    @Override
    public int hashCode() {
        return bits.hashCode();
    }

    /** The cpulist form, e.g. {@code 0-3,8}. */
    @Override
    public String toString() {
        return toList();
    }
}
