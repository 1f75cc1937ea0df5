package dev.keel.numa;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NumaTopologyTest {
    private static final long GIB = 1L << 30;

    @Test
    void shouldReadTwoNodesWithCpusMemoryAndDistances() {
        NumaTopology t = Fixtures.topology("two-node");
        assertEquals(IdSet.parse("0-1"), t.onlineNodes());
        List<NumaNode> nodes = t.nodes();
        assertEquals(2, nodes.size());
        assertEquals(IdSet.parse("4-7"), nodes.get(1).cpus());
        assertEquals(8 * GIB, nodes.get(0).memTotal());
        assertEquals(7 * GIB, nodes.get(1).memFree());
        assertEquals(10, t.distance(0, 0));
        assertEquals(21, t.distance(0, 1));
        assertEquals(21, t.distance(1, 0));
        assertEquals(1, t.nodeOfCpu(5).orElseThrow());
        assertTrue(t.nodeOfCpu(9).isEmpty());
    }

    @Test
    void shouldTakeTheCpusetOfTheNearestAncestorWhenTheProcessCgroupHasNone() {
        NumaTopology t = Fixtures.topology("two-node");
        assertEquals(IdSet.parse("0-1"), t.cpusetMems().orElseThrow());
        assertTrue(t.cpusetSource().orElseThrow().endsWith("sys/fs/cgroup/app.slice/cpuset.mems.effective"),
                t.cpusetSource().toString());
        assertEquals(IdSet.parse("0-1"), t.allowedNodes());
    }

    @Test
    void shouldAllowOnlyTheCpusetNodesOfAFourNodeMachine() {
        NumaTopology t = Fixtures.topology("four-node");
        assertEquals(4, t.nodes().size());
        assertEquals(16, t.distance(0, 1));
        assertEquals(32, t.distance(1, 3));
        assertEquals(IdSet.parse("0-3"), t.kernelMemsAllowed());
        assertEquals(IdSet.parse("0-1"), t.allowedNodes(), "mems allowed ∩ cpuset.mems.effective");
        t.checkAllocatable(1);
        NumaException e = assertThrows(NumaException.class, () -> t.checkAllocatable(2));
        assertEquals(NumaException.Reason.NODE_NOT_ALLOWED, e.reason());
        assertTrue(e.getMessage().startsWith("node 2 is not allowed to this process (allowed nodes: 0-1"), e.getMessage());
        assertTrue(e.getMessage().contains("cpuset mems 0-1 from "), e.getMessage());
    }

    @Test
    void shouldTellAMemorylessNodeAndACpulessNodeApartUnderCgroupV1() {
        NumaTopology t = Fixtures.topology("memoryless");
        assertEquals(IdSet.of(1), t.memorylessNodes());
        assertEquals(0, t.node(1).orElseThrow().memTotal());
        assertEquals(IdSet.parse("2-3"), t.node(1).orElseThrow().cpus());
        assertTrue(t.node(2).orElseThrow().cpus().isEmpty(), "node 2 has memory but no CPU");
        assertEquals(IdSet.parse("0,2"), t.cpusetMems().orElseThrow(), "read through mountinfo's v1 cpuset mount");
        assertEquals(IdSet.parse("0,2"), t.allowedNodes());
        assertEquals(30, t.distance(1, 2));
        NumaException e = assertThrows(NumaException.class, () -> t.checkAllocatable(1));
        assertEquals(NumaException.Reason.MEMORYLESS_NODE, e.reason());
        assertEquals("node 1 has no memory of its own (memoryless; nodes with memory: 0,2)", e.getMessage());
    }

    @Test
    void shouldKeepSparseNodeNumbersAndIndexDistancesByOnlineOrder() {
        NumaTopology t = Fixtures.topology("sparse-0-8");
        assertEquals(IdSet.of(0, 8), t.onlineNodes());
        assertEquals(IdSet.parse("0-15"), t.possibleNodes());
        assertEquals(20, t.distance(0, 8));
        assertEquals(10, t.distance(8, 8));
        assertEquals(-1, t.distance(0, 1), "node 1 is not online");
        assertEquals(8, t.nodeOfCpu(3).orElseThrow());
        assertTrue(t.cpusetMems().isEmpty(), "no cgroup files recorded");
        assertEquals(IdSet.of(0, 8), t.allowedNodes());
        t.checkAllocatable(8);
        NumaException e = assertThrows(NumaException.class, () -> t.checkAllocatable(5));
        assertEquals(NumaException.Reason.NO_SUCH_NODE, e.reason());
        assertEquals("node 5 does not exist (online nodes: 0,8)", e.getMessage());
    }

    @Test
    void shouldDescribeAKernelWithoutNumaAsOneNodeWithoutDistances() {
        NumaTopology t = Fixtures.topology("no-numa");
        assertEquals(IdSet.of(0), t.onlineNodes());
        NumaNode only = t.nodes().get(0);
        assertEquals(IdSet.parse("0-3"), only.cpus());
        assertEquals(8 * GIB, only.memTotal());
        assertFalse(t.hasDistances());
        assertEquals(-1, t.distance(0, 0));
        assertEquals(IdSet.of(0), t.allowedNodes());
    }

    @Test
    void shouldReadThisMachineWithTheKernelsMemsAllowed() {
        NumaTopology t = NumaTopology.system();
        assertTrue(t.onlineNodes().contains(0));
        assertTrue(t.allowedNodes().contains(0));
        assertEquals("get_mempolicy(MPOL_F_MEMS_ALLOWED)", t.kernelMemsSource());
        assertTrue(t.syscallProblem().isEmpty());
        assertTrue(t.node(0).orElseThrow().memTotal() > 0);
        assertFalse(t.node(0).orElseThrow().cpus().isEmpty());
        assertFalse(t.node(0).orElseThrow().memoryless(), "node 0 has memory here");
    }
}
