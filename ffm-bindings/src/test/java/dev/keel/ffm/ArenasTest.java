package dev.keel.ffm;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ArenasTest {
    @Test
    void shouldRunTheActionOnceWhenTheArenaCloses() {
        AtomicInteger runs = new AtomicInteger();
        Arena arena = Arena.ofShared();
        Arenas.onClose(arena, runs::incrementAndGet);
        Arenas.onClose(arena, runs::incrementAndGet);
        assertEquals(0, runs.get(), "nothing runs while the arena is open");
        arena.close();
        assertEquals(2, runs.get(), "each action ran once at close");
    }

    @Test
    void shouldRefuseAClosedArena() {
        Arena arena = Arena.ofConfined();
        arena.close();
        assertThrows(IllegalStateException.class, () -> Arenas.onClose(arena, () -> { }));
    }
}
