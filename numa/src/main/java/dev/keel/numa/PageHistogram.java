package dev.keel.numa;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the pages of a memory range are, as move_pages(2) with no target nodes reports it.
 *
 * @param pages        pages in the range
 * @param perNode      present pages per node, by node number
 * @param notPresent   pages never touched (status -ENOENT): they have no node yet
 * @param errors       pages with another status, by errno (e.g. EFAULT for the shared zero page)
 */
public record PageHistogram(long pages, Map<Integer, Long> perNode, long notPresent, Map<Integer, Long> errors) {
    /** Copies the maps, sorted by node and errno, so the record stays as measured. */
    public PageHistogram {
        perNode = Collections.unmodifiableMap(new TreeMap<>(perNode));
        errors = Collections.unmodifiableMap(new TreeMap<>(errors));
    }

    /** Present pages on {@code node}. */
    public long onNode(int node) {
        return perNode.getOrDefault(node, 0L);
    }

    /** Pages that are present, on whatever node. */
    public long present() {
        return perNode.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Whether every page is present and on one of {@code nodes}. */
    public boolean allPresentOn(IdSet nodes) {
        return notPresent == 0 && errors.isEmpty()
                && perNode.keySet().stream().allMatch(nodes::contains) && present() == pages;
    }

    /** {@code "node 0: 4096, node 1: 12 (of 4108 pages; 0 not present)"}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        perNode.forEach((node, count) -> sb.append(sb.isEmpty() ? "" : ", ").append("node ").append(node)
                .append(": ").append(count));
        if (sb.isEmpty()) {
            sb.append("no page present");
        }
        sb.append(" (of ").append(pages).append(" pages; ").append(notPresent).append(" not present");
        errors.forEach((errno, count) -> sb.append("; ").append(count).append(' ')
                .append(dev.keel.ffm.gen.Errno.name(errno)));
        return sb.append(')').toString();
    }
}
