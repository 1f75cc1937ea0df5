package dev.keel.numa;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NumaMapsTest {
    private static final long PAGE = 4096;
    private static final long HUGE = 2L << 20;

    @Test
    void shouldSumPagesPerNodeInEachMappingsPageSize() {
        NumaMaps m = NumaMaps.read(Fixtures.root("two-node"), 1234);
        assertEquals(6, m.mappings());
        assertEquals(Map.of(0, 2 + 512 + 4 + 3L, 1, 1024L), m.pagesByNode());
        assertEquals((2 + 512 + 3) * PAGE + 4 * HUGE, m.bytesByNode().get(0));
        assertEquals(1024 * PAGE, m.bytesByNode().get(1));
        assertEquals(Map.of(0, 4 * HUGE), m.hugeByNode());
        assertEquals(m.bytesByNode().get(0) + m.bytesByNode().get(1), m.totalBytes());
    }

    @Test
    void shouldRefuseAProcessThatDoesNotExist() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NumaMaps.read(Fixtures.root("two-node"), 99));
        assertTrue(e.getMessage().startsWith("no process 99"), e.getMessage());
    }

    @Test
    void shouldFindThisProcesssMemoryOnNodeZero() {
        NumaMaps m = NumaMaps.read(Path.of("/"), (int) ProcessHandle.current().pid());
        assertTrue(m.bytesByNode().getOrDefault(0, 0L) > 1 << 20, m.toString());
    }
}
