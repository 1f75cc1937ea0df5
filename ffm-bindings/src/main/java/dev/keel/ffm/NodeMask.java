package dev.keel.ffm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The node masks of the mempolicy system calls: arrays of {@code unsigned long}, bit {@code n}
 * standing for node {@code n}. Two kernel rules about their size are encoded here and nowhere
 * else:
 * <ul>
 * <li><b>the nr_node_ids minimum</b>: get_mempolicy(2) fails with EINVAL when the mask has
 *     fewer bits than the kernel has possible nodes ({@code nr_node_ids}, the highest node in
 *     {@code /sys/devices/system/node/possible} plus one), so every mask is sized from that file,
 *     rounded up to whole {@code unsigned long}s;</li>
 * <li><b>maxnode + 1</b>: the kernel reads one bit fewer than the {@code maxnode} it is given
 *     ({@code get_nodes()} and {@code copy_nodes_to_user()} in mm/mempolicy.c start with
 *     {@code --maxnode}), so a mask of {@code b} bits is passed with {@code maxnode = b + 1},
 *     as libnuma does.</li>
 * </ul>
 */
public final class NodeMask {
    private static final Path POSSIBLE = Path.of("/sys/devices/system/node/possible");
    private static final int BITS_PER_WORD = Long.SIZE;

    private NodeMask() {
    }

    /** Bits in every mask this process passes to the kernel. */
    public static int bits() {
        return Holder.BITS;
    }

    /** A zeroed mask of {@link #bits()} bits in {@code arena}. */
    public static MemorySegment allocate(Arena arena) {
        return arena.allocate((long) bits() / Byte.SIZE, Long.BYTES);
    }

    /** A mask in {@code arena} with exactly {@code nodes} set. */
    public static MemorySegment of(Arena arena, int... nodes) {
        MemorySegment mask = allocate(arena);
        for (int node : nodes) {
            set(mask, node);
        }
        return mask;
    }

    /** Sets the bit of {@code node}. */
    public static void set(MemorySegment mask, int node) {
        long offset = wordOffset(mask, node);
        mask.set(JAVA_LONG, offset, mask.get(JAVA_LONG, offset) | (1L << (node % BITS_PER_WORD)));
    }

    /** Whether the bit of {@code node} is set. */
    public static boolean isSet(MemorySegment mask, int node) {
        if (node < 0 || node >= mask.byteSize() * Byte.SIZE) {
            return false;
        }
        return (mask.get(JAVA_LONG, (long) (node / BITS_PER_WORD) * Long.BYTES) & (1L << (node % BITS_PER_WORD))) != 0;
    }

    /** The nodes whose bits are set, in ascending order. */
    public static int[] nodes(MemorySegment mask) {
        int bits = (int) (mask.byteSize() * Byte.SIZE);
        return java.util.stream.IntStream.range(0, bits).filter(n -> isSet(mask, n)).toArray();
    }

    /** The {@code maxnode} argument for {@code mask}: its size in bits plus one (see above); 0 for NULL. */
    static long maxnode(MemorySegment mask) {
        return mask.equals(MemorySegment.NULL) ? 0 : mask.byteSize() * Byte.SIZE + 1;
    }

    private static long wordOffset(MemorySegment mask, int node) {
        if (node < 0 || node >= mask.byteSize() * Byte.SIZE) {
            throw new IllegalArgumentException("node " + node + " does not fit a mask of "
                    + mask.byteSize() * Byte.SIZE + " bits (the kernel's possible nodes end below it)");
        }
        return (long) (node / BITS_PER_WORD) * Long.BYTES;
    }

    /**
     * Bits for a mask covering the possible-node list {@code possible} (sysfs list format,
     * e.g. {@code "0-3"} or {@code "0,8"}): nr_node_ids rounded up to whole words.
     */
    static int bitsFor(String possible) {
        int highest = 0;
        for (String part : possible.trim().split(",")) {
            if (part.isEmpty()) {
                continue;
            }
            int dash = part.indexOf('-');
            highest = Math.max(highest, Integer.parseInt(dash < 0 ? part : part.substring(dash + 1)));
        }
        int nrNodeIds = highest + 1;
        return (nrNodeIds + BITS_PER_WORD - 1) / BITS_PER_WORD * BITS_PER_WORD;
    }

    /** Reads {@code file}; a kernel without NUMA has no such file and one node, 0. */
    static int bitsFromFile(Path file) {
        try {
            return bitsFor(Files.readString(file));
        } catch (NoSuchFileException e) {
            return bitsFor("0");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    // Read once, lazily: loading NodeMask must not touch the file system.
    private static final class Holder {
        static final int BITS = bitsFromFile(POSSIBLE);
    }
}
