package dev.keel.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What an arena does when it closes. Attaching an action takes the restricted
 * {@link MemorySegment#reinterpret(long, Arena, java.util.function.Consumer)}, so it lives here:
 * {@code dev.keel.ffm} is the one keel module granted native access, and the modules above it
 * make no restricted call of their own.
 */
public final class Arenas {
    private Arenas() {
    }

    /**
     * Runs {@code action} once, when {@code arena} closes (on the thread that closes it; never for
     * an automatic or global arena that is not closed). Fails like the arena would for a new
     * segment: {@link IllegalStateException} if it is closed, {@link WrongThreadException} if it
     * is confined to another thread.
     */
    public static void onClose(Arena arena, Runnable action) {
        MemorySegment.NULL.reinterpret(0, arena, unused -> action.run());
    }
}
