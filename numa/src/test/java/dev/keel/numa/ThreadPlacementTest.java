package dev.keel.numa;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadPlacementTest {
    @Test
    void shouldReadTheProcessorFieldAfterACommWithSpacesAndParentheses() {
        NumaTopology t = Fixtures.topology("two-node");
        ThreadPlacement p = ThreadPlacement.read(Fixtures.root("two-node"), t);
        assertEquals(5, p.cpu());
        assertEquals(1, p.node());
        assertEquals(IdSet.parse("4-7"), p.allowedCpus());
        assertEquals(IdSet.of(1), p.allowedNodes(t));
    }

    @Test
    void shouldPlaceTheCallingThreadOnAnAllowedCpuOfAnOnlineNode() {
        NumaTopology t = NumaTopology.system();
        ThreadPlacement p = ThreadPlacement.current(t);
        assertTrue(p.allowedCpus().contains(p.cpu()), p.toString());
        assertTrue(t.onlineNodes().contains(p.node()), p.toString());
    }
}
