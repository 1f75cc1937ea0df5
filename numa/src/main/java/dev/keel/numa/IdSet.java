package dev.keel.numa;

import dev.keel.ffm.KernelLists;

import java.util.Arrays;
import java.util.BitSet;
import java.util.stream.IntStream;

/**
 * An immutable set of small non-negative ids, NUMA nodes or CPUs, read from and printed in the
 * kernel's list format ({@code "0-3,8,10-11"}, as in sysfs {@code online}, {@code cpulist} and
 * cgroup {@code cpuset.mems.effective}).
 */
public final class IdSet {
    private static final IdSet EMPTY = new IdSet(new BitSet());

    private final BitSet bits;

    private IdSet(BitSet bits) {
        this.bits = bits;
    }

    /** The empty set. */
    public static IdSet empty() {
        return EMPTY;
    }

    /** A set of exactly {@code ids}. */
    public static IdSet of(int... ids) {
        BitSet b = new BitSet();
        for (int id : ids) {
            if (id < 0) {
                throw new IllegalArgumentException("negative id " + id);
            }
            b.set(id);
        }
        return new IdSet(b);
    }

    /**
     * Parses the kernel list format; blank means empty.
     *
     * @throws IllegalArgumentException naming the text when it is not a list
     */
    public static IdSet parse(String list) {
        BitSet b = KernelLists.parse(list, "list of ids");
        return b.isEmpty() ? EMPTY : new IdSet(b);
    }

    /**
     * Parses the kernel's hex-mask form ({@code "00000000,0000000f"}), as nodeN/cpumap prints it.
     *
     * @throws IllegalArgumentException naming the text when it is not a mask
     */
    public static IdSet parseMask(String mask) {
        BitSet b = KernelLists.parseMask(mask);
        return b.isEmpty() ? EMPTY : new IdSet(b);
    }

    /** Whether {@code id} is in the set (false for a negative number). Constant time. */
    public boolean contains(int id) {
        return id >= 0 && bits.get(id);
    }

    /** Whether the set holds no id. */
    public boolean isEmpty() {
        return bits.isEmpty();
    }

    /** How many ids the set holds. */
    public int size() {
        return bits.cardinality();
    }

    /** The smallest id; the set must not be empty. */
    public int first() {
        if (bits.isEmpty()) {
            throw new IllegalStateException("empty set has no first id");
        }
        return bits.nextSetBit(0);
    }

    /** The largest id, or -1 when empty. */
    public int last() {
        return bits.length() - 1;
    }

    /** The ids in ascending order. */
    public int[] toArray() {
        return bits.stream().toArray();
    }

    /** The ids in ascending order. */
    public IntStream stream() {
        return bits.stream();
    }

    /** The ids in both sets: a new set, this one unchanged. */
    public IdSet intersect(IdSet other) {
        BitSet b = (BitSet) bits.clone();
        b.and(other.bits);
        return new IdSet(b);
    }

    /** The ids in either set: a new set, this one unchanged. */
    public IdSet union(IdSet other) {
        BitSet b = (BitSet) bits.clone();
        b.or(other.bits);
        return new IdSet(b);
    }

    /** The ids of this set that are not in {@code other}: a new set, this one unchanged. */
    public IdSet minus(IdSet other) {
        BitSet b = (BitSet) bits.clone();
        b.andNot(other.bits);
        return new IdSet(b);
    }

    /** Whether every id of {@code other} is in this set. */
    public boolean containsAll(IdSet other) {
        return other.minus(this).isEmpty();
    }

    /** The ids separated by spaces, as numactl prints CPUs ({@code "0 1 2 3"}). */
    public String spaced() {
        return String.join(" ", Arrays.stream(toArray()).mapToObj(Integer::toString).toList());
    }

    /** The kernel list format with ranges folded ({@code "0-3,8"}); empty string when empty. */
    @Override
    public String toString() {
        return KernelLists.format(bits);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdSet other && bits.equals(other.bits);
    }

    @Override
    public int hashCode() {
        return bits.hashCode();
    }
}
