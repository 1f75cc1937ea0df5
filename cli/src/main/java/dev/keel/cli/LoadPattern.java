package dev.keel.cli;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * The bytes {@code keel load} sends and expects back: {@link #VARIANTS} messages of pseudo-random
 * bytes laid end to end in one off-heap pattern, the pattern repeating. Connection {@code c}
 * sends message {@code (c + k) mod VARIANTS} as its request {@code k}, so its byte stream at
 * offset {@code o} is the pattern's byte {@code (o + c * size) mod length}: every byte of an
 * echo can be checked where it lands, whatever the reads cut, and a request answered out of
 * place or by another connection's bytes fails the check. The messages are views made once;
 * sending and checking allocate nothing. Read-only once made, shared by every loop.
 */
final class LoadPattern {
    /** Distinct messages; prime, so that neighbouring connections and requests differ. */
    static final int VARIANTS = 61;

    private final int size;
    private final long length;
    private final MemorySegment pattern;
    private final MemorySegment[] messages;

    LoadPattern(Arena arena, int size, long seed) {
        this.size = size;
        this.length = (long) size * VARIANTS;
        this.pattern = arena.allocate(length, 64);
        SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < length; i++) {
            pattern.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        }
        this.messages = new MemorySegment[VARIANTS];
        for (int v = 0; v < VARIANTS; v++) {
            messages[v] = pattern.asSlice((long) v * size, size);
        }
    }

    /** Request {@code k} of connection {@code c}. */
    MemorySegment message(int c, long k) {
        return messages[(int) ((c + k) % VARIANTS)];
    }

    /** Whether {@code data} is connection {@code c}'s stream from offset {@code at}. */
    boolean matches(int c, long at, MemorySegment data) {
        long n = data.byteSize();
        long from = (at + (long) (c % VARIANTS) * size) % length;
        long done = 0;
        while (done < n) {
            long run = Math.min(n - done, length - from);
            if (MemorySegment.mismatch(data, done, done + run, pattern, from, from + run) >= 0) {
                return false;
            }
            done += run;
            from = 0;
        }
        return true;
    }
}
