package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static dev.keel.ffm.gen.LinuxConstants.MPOL_BIND;
import static dev.keel.ffm.gen.LinuxConstants.MPOL_DEFAULT;
import static dev.keel.ffm.gen.LinuxConstants.MPOL_F_ADDR;
import static dev.keel.ffm.gen.LinuxConstants.MPOL_F_NODE;
import static dev.keel.ffm.gen.LinuxConstants.MPOL_INTERLEAVE;
import static dev.keel.ffm.gen.LinuxConstants.MPOL_MODE_FLAGS;
import static dev.keel.ffm.gen.LinuxConstants.PROT_READ;
import static dev.keel.ffm.gen.LinuxConstants.PROT_WRITE;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MempolicyTest {
    private static final long PAGE = Mman.pageSize();

    @Test
    void shouldReportNodeZeroForTouchedPagesAndEnoentForUntouchedOnesOfABoundMapping() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = Mman.mapAnonymous(arena, 4 * PAGE, PROT_READ | PROT_WRITE, 0);
            Mempolicy.mbind(m, MPOL_BIND, NodeMask.of(arena, 0), 0);
            m.set(JAVA_BYTE, 0, (byte) 1);
            m.set(JAVA_BYTE, 2 * PAGE, (byte) 1);

            MemorySegment pages = arena.allocate(ADDRESS, 4);
            MemorySegment status = arena.allocate(JAVA_INT, 4);
            for (int i = 0; i < 4; i++) {
                pages.setAtIndex(ADDRESS, i, m.asSlice(i * PAGE, 1));
                status.setAtIndex(JAVA_INT, i, Integer.MIN_VALUE);
            }
            assertEquals(0, Mempolicy.movePages(0, 4, pages, MemorySegment.NULL, status, 0));
            assertArrayEquals(new int[] {0, -Errno.ENOENT, 0, -Errno.ENOENT}, status.toArray(JAVA_INT));
        }
    }

    @Test
    void shouldReadTheBoundPolicyAndNodeOfAPageBack() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = Mman.mapAnonymous(arena, PAGE, PROT_READ | PROT_WRITE, 0);
            Mempolicy.mbind(m, MPOL_BIND, NodeMask.of(arena, 0), 0);
            m.set(JAVA_BYTE, 0, (byte) 1);
            MemorySegment mode = arena.allocate(JAVA_INT);
            MemorySegment mask = NodeMask.allocate(arena);
            Mempolicy.getMempolicy(mode, mask, m.address(), MPOL_F_ADDR);
            assertEquals(MPOL_BIND, mode.get(JAVA_INT, 0) & ~MPOL_MODE_FLAGS);
            assertArrayEquals(new int[] {0}, NodeMask.nodes(mask));
            Mempolicy.getMempolicy(mode, MemorySegment.NULL, m.address(), MPOL_F_ADDR | MPOL_F_NODE);
            assertEquals(0, mode.get(JAVA_INT, 0), "MPOL_F_NODE|MPOL_F_ADDR gives the page's node");
        }
    }

    @Test
    void shouldListNodeZeroAmongTheMemsAllowed() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = NodeMask.allocate(arena);
            Mempolicy.memsAllowed(mask);
            assertTrue(NodeMask.isSet(mask, 0), "node 0 allowed");
        }
    }

    @Test
    void shouldNameEinvalWhenBindingToANodeThatDoesNotExist() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment allowed = NodeMask.allocate(arena);
            Mempolicy.memsAllowed(allowed);
            int missing = firstUnset(allowed);
            MemorySegment m = Mman.mapAnonymous(arena, PAGE, PROT_READ | PROT_WRITE, 0);
            SyscallException e = assertThrows(SyscallException.class,
                    () -> Mempolicy.mbind(m, MPOL_BIND, NodeMask.of(arena, missing), 0));
            assertEquals("mbind: EINVAL (Invalid argument)", e.getMessage());
        }
    }

    private static int firstUnset(MemorySegment mask) {
        int node = 0;
        while (NodeMask.isSet(mask, node)) {
            node++;
        }
        return node;
    }

    @Test
    void shouldSetAndReadBackTheThreadPolicyOnlyOnThatThread() throws Exception {
        AtomicReference<int[]> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (Arena arena = Arena.ofConfined()) {
                Mempolicy.setMempolicy(MPOL_INTERLEAVE, NodeMask.of(arena, 0));
                MemorySegment mode = arena.allocate(JAVA_INT);
                MemorySegment mask = NodeMask.allocate(arena);
                Mempolicy.getMempolicy(mode, mask, 0, 0);
                int set = mode.get(JAVA_INT, 0) & ~MPOL_MODE_FLAGS;
                Mempolicy.setMempolicy(MPOL_DEFAULT, MemorySegment.NULL);
                Mempolicy.getMempolicy(mode, MemorySegment.NULL, 0, 0);
                seen.set(new int[] {set, NodeMask.nodes(mask)[0], mode.get(JAVA_INT, 0)});
            }
        });
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            t.start();
            t.join();
        });
        assertArrayEquals(new int[] {MPOL_INTERLEAVE, 0, MPOL_DEFAULT}, seen.get());
    }
}
