package dev.keel.numa;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /proc/PID/numa_maps} summed per node: how much of a process's memory sits on each node.
 * Each line is one mapping with its policy and, per node, the pages present there
 * ({@code N0=512}) in units of {@code kernelpagesize_kB}; see proc(5) and numa(7).
 *
 * @param pid         the process
 * @param bytesByNode resident bytes per node
 * @param pagesByNode resident pages per node, counting a huge page as one
 * @param hugeByNode  resident bytes in huge pages per node (a part of {@code bytesByNode})
 * @param mappings    lines read
 */
public record NumaMaps(int pid, Map<Integer, Long> bytesByNode, Map<Integer, Long> pagesByNode,
                       Map<Integer, Long> hugeByNode, int mappings) {
    private static final Pattern NODE = Pattern.compile("N(\\d+)=(\\d+)");
    private static final String PAGE_SIZE = "kernelpagesize_kB=";
    private static final long KIB = 1024;
    private static final long BASE_PAGE = dev.keel.ffm.Mman.pageSize();

    /** Copies the per-node maps, sorted by node, so the record stays as read from {@code numa_maps}. */
    public NumaMaps {
        bytesByNode = Collections.unmodifiableMap(new TreeMap<>(bytesByNode));
        pagesByNode = Collections.unmodifiableMap(new TreeMap<>(pagesByNode));
        hugeByNode = Collections.unmodifiableMap(new TreeMap<>(hugeByNode));
    }

    /** Reads process {@code pid} under {@code root} ({@code /} for this machine). */
    public static NumaMaps read(Path root, int pid) {
        Path file = SysFiles.under(root, "/proc/" + pid + "/numa_maps");
        if (SysFiles.read(file).isEmpty()) {
            throw new IllegalArgumentException("no process " + pid + " (" + file + " does not exist)");
        }
        return parse(pid, SysFiles.lines(file));
    }

    static NumaMaps parse(int pid, List<String> lines) {
        Map<Integer, Long> bytes = new TreeMap<>();
        Map<Integer, Long> pages = new TreeMap<>();
        Map<Integer, Long> huge = new TreeMap<>();
        int mappings = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            mappings++;
            long pageBytes = pageBytes(line);
            // hugetlb mappings say "huge" and count in their own page size (THP counts in base pages).
            boolean isHuge = line.contains(" huge ") || pageBytes > BASE_PAGE;
            Matcher m = NODE.matcher(line);
            while (m.find()) {
                int node = Integer.parseInt(m.group(1));
                long n = Long.parseLong(m.group(2));
                pages.merge(node, n, Long::sum);
                bytes.merge(node, n * pageBytes, Long::sum);
                if (isHuge) {
                    huge.merge(node, n * pageBytes, Long::sum);
                }
            }
        }
        return new NumaMaps(pid, bytes, pages, huge, mappings);
    }

    private static long pageBytes(String line) {
        int at = line.indexOf(PAGE_SIZE);
        if (at < 0) {
            return 0;
        }
        int end = line.indexOf(' ', at);
        return Long.parseLong(line.substring(at + PAGE_SIZE.length(), end < 0 ? line.length() : end)) * KIB;
    }

    /** Resident bytes over all nodes. */
    public long totalBytes() {
        return bytesByNode.values().stream().mapToLong(Long::longValue).sum();
    }
}
