package dev.keel.numa;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdSetTest {
    @Test
    void shouldParseTheKernelListFormatAndFoldRangesWhenPrinted() {
        IdSet s = IdSet.parse("0-3,8,10-11\n");
        assertArrayEquals(new int[] {0, 1, 2, 3, 8, 10, 11}, s.toArray());
        assertEquals("0-3,8,10-11", s.toString());
        assertEquals("0 1 2 3 8 10 11", s.spaced());
        assertEquals(IdSet.of(1, 2, 3, 5), IdSet.parse("1,2,3,5"));
        assertEquals("1-3,5", IdSet.of(1, 2, 3, 5).toString());
    }

    @Test
    void shouldReadABlankListAsEmpty() {
        assertTrue(IdSet.parse(" \n").isEmpty());
        assertEquals("", IdSet.empty().toString());
        assertEquals(-1, IdSet.empty().last());
    }

    @Test
    void shouldRefuseTextThatIsNotAList() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdSet.parse("0-x"));
        assertTrue(e.getMessage().contains("'0-x'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IdSet.parse("3-1"));
    }

    @Test
    void shouldIntersectUniteAndSubtract() {
        IdSet a = IdSet.parse("0-3");
        IdSet b = IdSet.parse("2-5");
        assertEquals(IdSet.parse("2-3"), a.intersect(b));
        assertEquals(IdSet.parse("0-5"), a.union(b));
        assertEquals(IdSet.parse("0-1"), a.minus(b));
        assertTrue(a.containsAll(IdSet.of(1, 3)));
        assertFalse(a.containsAll(b));
        assertFalse(a.contains(-1));
    }
}
