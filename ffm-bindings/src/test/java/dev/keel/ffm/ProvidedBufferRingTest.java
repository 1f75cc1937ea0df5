package dev.keel.ffm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A provided buffer belongs to the kernel from the moment it is lent until a completion gives
 * it back: lending it again meanwhile, or lending more buffers than the ring has descriptors
 * for (the kernel would silently overwrite the oldest), is a programming error and says so.
 */
class ProvidedBufferRingTest {
    private static final int BUF = 256;

    @BeforeAll
    static void kernelRunsIoUring() {
        Rings.requireIoUring();
    }

    @Test
    void shouldRefuseToLendABufferTheKernelAlreadyHolds() {
        try (Arena arena = Arena.ofConfined();
             IoUringRing ring = IoUringRing.open(8, 0);
             ProvidedBufferRing pbuf = ProvidedBufferRing.register(ring, 4, 1)) {
            MemorySegment pool = arena.allocate(4L * BUF);
            pbuf.provide(pool.address(), BUF, 3);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pbuf.provide(pool.address(), BUF, 3), "buffer 3 lent twice");
            assertTrue(e.getMessage().contains("buffer 3"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseToLendMoreBuffersThanTheRingHolds() {
        try (Arena arena = Arena.ofConfined();
             IoUringRing ring = IoUringRing.open(8, 0);
             ProvidedBufferRing pbuf = ProvidedBufferRing.register(ring, 4, 1)) {
            MemorySegment pool = arena.allocate(5L * BUF);
            for (int bid = 0; bid < 4; bid++) {
                pbuf.provide(pool.address() + (long) bid * BUF, BUF, bid);
            }
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> pbuf.provide(pool.address() + 4L * BUF, BUF, 4), "a fifth buffer in a ring of 4");
            assertTrue(e.getMessage().contains("4"), e.getMessage());
        }
    }
}
