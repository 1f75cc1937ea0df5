package dev.keel.cli;

import java.util.List;

/** Plain-text tables as the reports print them: columns padded to their widest cell, two spaces apart. */
final class Tables {
    private Tables() {
    }

    /** Appends {@code rows} (the first is the header) to {@code sb}, the last column unpadded. */
    static void table(StringBuilder sb, List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length - 1; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i < r.length - 1 ? String.format("%-" + width[i] + "s  ", r[i]) : r[i]);
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
    }

    /** As {@link #table}, each line indented by two spaces. */
    static void indented(StringBuilder sb, List<String[]> rows) {
        StringBuilder t = new StringBuilder();
        table(t, rows);
        t.toString().lines().forEach(l -> sb.append("  ").append(l).append('\n'));
    }
}
