package dev.keel.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses a CPU list as {@code taskset -c} and sysfs write it ({@code 0-3,8,10-11}), keeping
 * the order given: loop i runs on the i-th CPU. A stop-gap for the serve and proxy commands
 * until the affinity module's {@code CpuSet.parseList} is merged into this branch.
 */
final class CpuList {
    /** Highest CPU number accepted (Linux's NR_CPUS ceiling is far below). */
    private static final int MAX_CPU = 8191;

    private CpuList() {
    }

    static int[] parse(String text) {
        if (text == null || text.isBlank()) {
            throw new UsageException("--cpus needs a list such as 0-3,6");
        }
        List<Integer> cpus = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.trim();
            int dash = p.indexOf('-');
            int first = number(dash < 0 ? p : p.substring(0, dash), text);
            int last = dash < 0 ? first : number(p.substring(dash + 1), text);
            if (last < first) {
                throw new UsageException("--cpus range " + p + " runs backwards");
            }
            for (int c = first; c <= last; c++) {
                if (cpus.contains(c)) {
                    throw new UsageException("--cpus names CPU " + c + " twice");
                }
                cpus.add(c);
            }
        }
        return cpus.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int number(String s, String whole) {
        try {
            int n = Integer.parseInt(s.trim());
            if (n < 0 || n > MAX_CPU) {
                throw new UsageException("--cpus: CPU " + n + " is out of range");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--cpus: cannot read '" + whole + "' as a CPU list (e.g. 0-3,6)");
        }
    }

    /** {@code "0,1"} for printing. */
    static String format(int[] cpus) {
        StringBuilder sb = new StringBuilder();
        for (int c : cpus) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(c < 0 ? "-" : String.valueOf(c));
        }
        return sb.toString();
    }
}
