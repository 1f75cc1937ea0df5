package dev.keel.numa;

import dev.keel.ffm.Mman;
import dev.keel.ffm.Seccomp;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NumaMemoryTest {
    private static final long PAGE = Mman.pageSize();
    private static final long MIB = 1 << 20;

    @Test
    void shouldBindToNodeZeroAndCountUntouchedPagesApart() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = NumaMemory.bind(0).allocate(arena, 16 * PAGE);
            assertEquals(16 * PAGE, m.byteSize());
            assertEquals("bind:0", Proc.policyOf(m));
            for (long i = 0; i < 16; i += 2) {
                m.set(JAVA_BYTE, i * PAGE, (byte) 1);
            }
            PageHistogram h = Placement.of(m);
            assertEquals(16, h.pages());
            assertEquals(8, h.onNode(0));
            assertEquals(8, h.notPresent(), "pages never touched have no node");
            assertTrue(h.errors().isEmpty());
        }
    }

    @Test
    void shouldPrefaultEveryPageOntoTheBoundNode() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = NumaMemory.bind(0).withPrefault().allocate(arena, 2 * MIB);
            PageHistogram h = Placement.verify(m, IdSet.of(0));
            assertEquals(2 * MIB / PAGE, h.onNode(0));
        }
    }

    @Test
    void shouldApplyEachModeToTheMapping() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment interleaved = NumaMemory.interleave(IdSet.of(0)).withPrefault().allocate(arena, 8 * PAGE);
            assertEquals("interleave:0", Proc.policyOf(interleaved));
            assertTrue(Placement.of(interleaved).allPresentOn(IdSet.of(0)));

            MemorySegment preferred = NumaMemory.prefer(0).withPrefault().allocate(arena, 8 * PAGE);
            assertEquals("prefer:0", Proc.policyOf(preferred));
            assertTrue(Placement.of(preferred).allPresentOn(IdSet.of(0)));

            MemorySegment local = NumaMemory.local().withPrefault().allocate(arena, 8 * PAGE);
            assertEquals("local", Proc.policyOf(local));
            assertTrue(Placement.of(local).allPresentOn(IdSet.of(0)));
        }
    }

    @Test
    void shouldMarkTheMappingForHugePages() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = NumaMemory.bind(0).withHugePages().allocate(arena, 4 * MIB);
            assertTrue(Proc.vmFlags(m).contains("hg"), "MADV_HUGEPAGE shows as VmFlags hg: " + Proc.vmFlags(m));
            long pmd = Long.parseLong(Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")).strip());
            assertEquals(0, m.address() % pmd, "starts on a huge page boundary");
        }
    }

    @Test
    void shouldRefuseANodeThatDoesNotExistWithTheReason() {
        NumaTopology t = NumaTopology.system();
        int missing = t.onlineNodes().last() + 1;
        try (Arena arena = Arena.ofConfined()) {
            NumaException e = assertThrows(NumaException.class, () -> NumaMemory.bind(missing).allocate(arena, PAGE));
            assertEquals(NumaException.Reason.NO_SUCH_NODE, e.reason());
            assertEquals("node " + missing + " does not exist (online nodes: " + t.onlineNodes() + ")", e.getMessage());
        }
    }

    @Test
    void shouldThrowInsteadOfReturningUnboundMemoryWhenMbindFails() {
        // The two-node recording says node 1 exists and is allowed; this kernel has no node 1.
        NumaTopology recorded = Fixtures.topology("two-node");
        try (Arena arena = Arena.ofConfined()) {
            NumaException e = assertThrows(NumaException.class,
                    () -> NumaMemory.bind(1).checkedAgainst(recorded).allocate(arena, PAGE));
            assertEquals(NumaException.Reason.SYSCALL_FAILED, e.reason());
            assertEquals("cannot bind to node 1 4096 bytes: mbind: EINVAL (Invalid argument)", e.getMessage());
        }
    }

    @Test
    void shouldRefuseMemorylessAndForbiddenNodesBeforeAnySyscall() {
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(NumaException.Reason.MEMORYLESS_NODE, assertThrows(NumaException.class,
                    () -> NumaMemory.bind(1).checkedAgainst(Fixtures.topology("memoryless")).allocate(arena, PAGE)).reason());
            assertEquals(NumaException.Reason.NODE_NOT_ALLOWED, assertThrows(NumaException.class,
                    () -> NumaMemory.interleave(IdSet.parse("0-3")).checkedAgainst(Fixtures.topology("four-node"))
                            .allocate(arena, PAGE)).reason());
        }
    }

    @Test
    void shouldGiveTheMemoryBackWhenTheArenaCloses() throws IOException {
        long size = 32 * MIB;
        long before = Proc.rssBytes();
        long during;
        try (Arena arena = Arena.ofConfined()) {
            NumaMemory.bind(0).withPrefault().allocate(arena, size);
            during = Proc.rssBytes();
            assertTrue(during - before >= size * 7 / 8, "prefaulted pages are resident: " + (during - before));
        }
        long after = Proc.rssBytes();
        assertTrue(during - after >= size * 7 / 8, "closing the arena unmaps them: " + (during - after));
    }

    @Test
    void shouldPrefaultFromAThreadOfTheFactoryWhenItRunsOnTheNode() {
        try (Arena arena = Arena.ofConfined()) {
            AtomicReference<String> toucher = new AtomicReference<>();
            MemorySegment m = NumaMemory.bind(0)
                    .withPrefault(r -> new Thread(() -> {
                        toucher.set(Thread.currentThread().getName());
                        r.run();
                    }, "node0-toucher"))
                    .allocate(arena, 64 * PAGE);
            assertEquals("node0-toucher", toucher.get());
            assertEquals(64, Placement.verify(m, IdSet.of(0)).onNode(0));
        }
    }

    @Test
    void shouldRefuseAPrefaultThreadThatMayRunOffTheNode(@TempDir Path root) throws IOException {
        // Node 0 of this recording owns no CPU this thread may run on.
        Path node0 = Files.createDirectories(root.resolve("sys/devices/system/node/node0"));
        Files.writeString(root.resolve("sys/devices/system/node/online"), "0\n");
        Files.writeString(node0.resolve("cpulist"), "4096\n");
        Files.writeString(node0.resolve("meminfo"), "Node 0 MemTotal:  1024 kB\n");
        NumaTopology recorded = NumaTopology.read(root);
        try (Arena arena = Arena.ofConfined()) {
            NumaException e = assertThrows(NumaException.class, () -> NumaMemory.bind(0).checkedAgainst(recorded)
                    .withPrefault(Thread::new).allocate(arena, PAGE));
            assertEquals(NumaException.Reason.MISPLACED, e.reason());
            assertTrue(e.getMessage().startsWith("the pre-fault thread may run on CPUs "), e.getMessage());
        }
    }

    @Test
    void shouldHandOutPlacedSegmentsThroughTheAllocatorHook() {
        try (Arena arena = Arena.ofShared()) {
            NumaMemory.Allocator allocator = NumaMemory.bind(0).withPrefault().allocator(arena);
            for (int i = 1; i <= 3; i++) {
                MemorySegment s = allocator.allocate(i * 4 * PAGE);
                assertEquals(i * 4 * PAGE, s.byteSize());
                assertTrue(Placement.of(s).allPresentOn(IdSet.of(0)));
            }
        }
    }

    @Test
    void shouldSayTheContainerBlocksTheSyscallsWhileTheTopologyStillReads() throws Exception {
        AtomicReference<NumaTopology> topology = new AtomicReference<>();
        AtomicReference<NumaException> allocation = new AtomicReference<>();
        AtomicReference<NumaException> histogram = new AtomicReference<>();
        Thread filtered = new Thread(() -> {
            Seccomp.denyOnCurrentThread(Errno.EPERM, LinuxConstants.SYS_mbind, LinuxConstants.SYS_set_mempolicy,
                    LinuxConstants.SYS_get_mempolicy, LinuxConstants.SYS_move_pages);
            NumaTopology t = NumaTopology.system();
            topology.set(t);
            try (Arena arena = Arena.ofConfined()) {
                NumaMemory.bind(0).checkedAgainst(t).allocate(arena, PAGE);
            } catch (NumaException e) {
                allocation.set(e);
            }
            try (Arena arena = Arena.ofConfined()) {
                Placement.of(arena.allocate(PAGE));
            } catch (NumaException e) {
                histogram.set(e);
            }
        });
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            filtered.start();
            filtered.join();
        });
        NumaTopology t = topology.get();
        assertTrue(t.onlineNodes().contains(0), "the topology comes from sysfs");
        assertTrue(t.allowedNodes().contains(0), "mems allowed falls back to /proc/self/status");
        assertTrue(t.syscallProblem().orElseThrow().startsWith("the container blocks the NUMA syscalls (get_mempolicy: EPERM"),
                t.syscallProblem().toString());
        assertEquals(NumaException.Reason.SYSCALLS_BLOCKED, allocation.get().reason());
        assertTrue(allocation.get().getMessage().startsWith(
                "the container blocks the NUMA syscalls (mbind: EPERM (Operation not permitted)); cannot bind to node 0"),
                allocation.get().getMessage());
        assertEquals(NumaException.Reason.SYSCALLS_BLOCKED, histogram.get().reason());
    }
}
