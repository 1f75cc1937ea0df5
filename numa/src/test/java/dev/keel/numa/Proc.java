package dev.keel.numa;

import dev.keel.ffm.Mman;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What /proc/self says about this process's memory, for tests. */
final class Proc {
    private Proc() {
    }

    /** Resident set size in bytes: field 2 of /proc/self/statm, in pages. */
    static long rssBytes() throws IOException {
        String[] f = Files.readString(Path.of("/proc/self/statm")).strip().split("\\s+");
        return Long.parseLong(f[1]) * Mman.pageSize();
    }

    /** The /proc/self/numa_maps line of the mapping that starts at {@code segment}. */
    static String numaMapsLine(MemorySegment segment) throws IOException {
        String start = Long.toHexString(segment.address()) + " ";
        return Files.readAllLines(Path.of("/proc/self/numa_maps")).stream().filter(l -> l.startsWith(start))
                .findFirst().orElseThrow(() -> new AssertionError("no numa_maps line starts at " + start));
    }

    /** The policy column of that line: {@code bind:0}, {@code interleave:0}, {@code local}, ... */
    static String policyOf(MemorySegment segment) throws IOException {
        return numaMapsLine(segment).split(" ")[1];
    }

    /** The VmFlags of the /proc/self/smaps entry of the mapping that starts at {@code segment}. */
    static List<String> vmFlags(MemorySegment segment) throws IOException {
        String start = Long.toHexString(segment.address()) + "-";
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        boolean in = false;
        for (String l : lines) {
            if (l.startsWith(start)) {
                in = true;
            } else if (in && l.startsWith("VmFlags:")) {
                return List.of(l.substring("VmFlags:".length()).strip().split("\\s+"));
            }
        }
        throw new AssertionError("no smaps entry starts at " + start);
    }
}
