package dev.keel.ffm;

import java.util.BitSet;
import java.util.HexFormat;

/**
 * The kernel's list format for sets of CPUs and nodes ({@code "0-3,8,10-11"}), as sysfs
 * {@code online} and {@code cpulist}, cgroup {@code cpuset.cpus.effective} and
 * {@code /proc/PID/status} print it, including the strided form {@code a-b:used/group}
 * ({@code "0-15:2/4"} = 0,1,4,5,8,9,12,13) that the kernel's bitmap_parselist accepts.
 * One parser and one printer, shared by the affinity and numa modules; and the parser of the
 * hex-mask form ({@code "ffffffff,00000001"}) that sysfs {@code *_map}/{@code cpumap} files
 * and {@code Cpus_allowed} print.
 */
public final class KernelLists {
    /**
     * Highest id text may name: far past any Linux build (NR_CPUS tops out at 8192); it only
     * keeps a typo such as "1000000000" from allocating a huge bit set.
     */
    public static final int MAX_ID = (1 << 22) - 1;
    /** Bits per comma-separated group of a hex mask (the kernel's bitmap_print_to_pagebuf). */
    private static final int GROUP_BITS = 32;
    private static final int GROUP_DIGITS = GROUP_BITS / 4;

    private KernelLists() {
    }

    /**
     * Parses a list; surrounding white space and a trailing newline are ignored, blank is empty.
     *
     * @param what the name of the list in error messages, e.g. {@code "cpulist"}
     * @throws IllegalArgumentException {@code bad <what> '<text>': <reason>}
     */
    public static BitSet parse(String text, String what) {
        String s = text.strip();
        BitSet b = new BitSet();
        if (s.isEmpty()) {
            return b;
        }
        for (String part : s.split(",", -1)) {
            try {
                addPart(b, part.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad " + what + " '" + s + "': '" + part
                        + "' is not a number or range");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad " + what + " '" + s + "': " + e.getMessage());
            }
        }
        return b;
    }

    /**
     * Parses a hex mask: groups of at most 8 hex digits separated by commas, the most
     * significant group first ({@code "ff,00000001"} is ids 0 and 32-39). An optional
     * {@code 0x} prefix and surrounding white space are ignored.
     *
     * @throws IllegalArgumentException naming the input and the bad group
     */
    public static BitSet parseMask(String text) {
        String s = text.strip();
        if (s.startsWith("0x") || s.startsWith("0X")) {
            s = s.substring(2);
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty hex mask");
        }
        String[] groups = s.split(",", -1);
        if ((long) groups.length * GROUP_BITS > MAX_ID + 1L) {
            throw new IllegalArgumentException("hex mask of " + groups.length + " groups is past any machine");
        }
        BitSet b = new BitSet();
        for (int i = 0; i < groups.length; i++) {
            String g = groups[i];
            // ASCII hex only: Character.digit and Long.parseLong also take Arabic-Indic or fullwidth digits.
            if (g.isEmpty() || g.length() > GROUP_DIGITS || !g.chars().allMatch(HexFormat::isHexDigit)) {
                throw new IllegalArgumentException("bad hex mask '" + s + "': group '" + g
                        + "' is not 1 to " + GROUP_DIGITS + " hex digits");
            }
            long value = Long.parseLong(g, 16);
            int base = (groups.length - 1 - i) * GROUP_BITS;
            for (long rest = value; rest != 0; rest &= rest - 1) {
                b.set(base + Long.numberOfTrailingZeros(rest));
            }
        }
        return b;
    }

    private static void addPart(BitSet b, String part) {
        if (part.isEmpty()) {
            throw new IllegalArgumentException("empty entry");
        }
        int colon = part.indexOf(':');
        String range = colon < 0 ? part : part.substring(0, colon);
        int dash = range.indexOf('-');
        int first = number(dash < 0 ? range : range.substring(0, dash));
        int last = dash < 0 ? first : number(range.substring(dash + 1));
        if (last < first) {
            throw new IllegalArgumentException("range '" + part + "' ends before it starts");
        }
        if (colon < 0) {
            b.set(first, last + 1);
            return;
        }
        String[] stride = part.substring(colon + 1).split("/", -1);
        if (dash < 0 || stride.length != 2) {
            throw new IllegalArgumentException("'" + part + "' is not of the form a-b:used/group");
        }
        int used = number(stride[0]);
        int group = number(stride[1]);
        if (used == 0 || group == 0 || used > group) {
            throw new IllegalArgumentException("'" + part + "' needs 0 < used <= group");
        }
        for (int start = first; start <= last; start += group) {
            b.set(start, Math.min(start + used, last + 1));
        }
    }

    private static int number(String digits) {
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new NumberFormatException(digits);
        }
        int n = Integer.parseInt(digits);
        if (n > MAX_ID) {
            throw new IllegalArgumentException(n + " is past any machine (limit " + MAX_ID + ")");
        }
        return n;
    }

    /** The canonical list: ascending, runs of 2 or more joined with '-'; "" when empty. */
    public static String format(BitSet bits) {
        StringBuilder sb = new StringBuilder();
        for (int start = bits.nextSetBit(0); start >= 0; ) {
            int end = bits.nextClearBit(start) - 1;
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(start);
            if (end > start) {
                sb.append('-').append(end);
            }
            start = bits.nextSetBit(end + 1);
        }
        return sb.toString();
    }
}
