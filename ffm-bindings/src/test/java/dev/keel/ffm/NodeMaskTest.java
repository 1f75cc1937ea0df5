package dev.keel.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeMaskTest {
    @Test
    void shouldSizeMasksFromTheHighestPossibleNodeInWholeWords() {
        assertEquals(64, NodeMask.bitsFor("0\n"), "one node still takes one unsigned long");
        assertEquals(64, NodeMask.bitsFor("0-63"));
        assertEquals(128, NodeMask.bitsFor("0-64"), "nr_node_ids 65 needs a second word");
        assertEquals(64, NodeMask.bitsFor("0,8"), "sparse node numbers count up to the highest");
        assertEquals(1024, NodeMask.bitsFor("0-1023"));
    }

    @Test
    void shouldReadThePossibleFileAndAssumeOneNodeWithoutIt(@TempDir Path dir) throws IOException {
        Path possible = dir.resolve("possible");
        java.nio.file.Files.writeString(possible, "0-127\n");
        assertEquals(128, NodeMask.bitsFromFile(possible));
        assertEquals(64, NodeMask.bitsFromFile(dir.resolve("missing")), "a kernel without NUMA has node 0 only");
    }

    @Test
    void shouldPassOneBitMoreThanTheMaskHoldsAsMaxnode() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = NodeMask.allocate(arena);
            assertEquals(NodeMask.bits() / 8, mask.byteSize());
            assertEquals(NodeMask.bits() + 1, NodeMask.maxnode(mask));
            assertEquals(0, NodeMask.maxnode(MemorySegment.NULL));
        }
    }

    @Test
    void shouldSetAndListNodesAndRefuseOnesBeyondTheMask() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = NodeMask.of(arena, 0, 5);
            assertTrue(NodeMask.isSet(mask, 0));
            assertTrue(NodeMask.isSet(mask, 5));
            assertFalse(NodeMask.isSet(mask, 1));
            assertFalse(NodeMask.isSet(mask, NodeMask.bits()), "beyond the mask reads as unset");
            assertArrayEquals(new int[] {0, 5}, NodeMask.nodes(mask));
            assertThrows(IllegalArgumentException.class, () -> NodeMask.set(mask, NodeMask.bits()));
            assertThrows(IllegalArgumentException.class, () -> NodeMask.set(mask, -1));
        }
    }

    @Test
    void shouldCoverEveryPossibleNodeOfThisKernel() throws IOException {
        int bits = NodeMask.bitsFromFile(Path.of("/sys/devices/system/node/possible"));
        assertEquals(bits, NodeMask.bits());
        assertEquals(0, bits % 64);
    }
}
