package dev.keel.ffm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static dev.keel.ffm.gen.LinuxConstants.MADV_DONTNEED;
import static dev.keel.ffm.gen.LinuxConstants.MAP_ANONYMOUS;
import static dev.keel.ffm.gen.LinuxConstants.MAP_PRIVATE;
import static dev.keel.ffm.gen.LinuxConstants.PROT_READ;
import static dev.keel.ffm.gen.LinuxConstants.PROT_WRITE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MmanTest {
    private static final long PAGE = Mman.pageSize();

    @Test
    void shouldReturnASegmentOfTheMappedLengthThatReadsBackWhatWasWritten() {
        MemorySegment m = Mman.mmap(4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            assertEquals(4 * PAGE, m.byteSize());
            assertEquals(0, m.address() % PAGE, "mappings start on a page boundary");
            for (long off = 0; off < m.byteSize(); off += Long.BYTES) {
                m.set(JAVA_LONG, off, off * 31);
            }
            for (long off = 0; off < m.byteSize(); off += Long.BYTES) {
                assertEquals(off * 31, m.get(JAVA_LONG, off));
            }
        } finally {
            Mman.munmap(m);
        }
    }

    @Test
    void shouldZeroAPrivateAnonymousPageWhenAdvisedDontNeed() {
        MemorySegment m = Mman.mmap(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            m.set(JAVA_LONG, 0, 0x1234L);
            m.set(JAVA_LONG, PAGE, 0x5678L);
            Mman.madvise(m.asSlice(0, PAGE), MADV_DONTNEED);
            assertEquals(0L, m.get(JAVA_LONG, 0), "the advised page reads as a fresh zero page");
            assertEquals(0x5678L, m.get(JAVA_LONG, PAGE), "the page outside the range is kept");
        } finally {
            Mman.munmap(m);
        }
    }

    @Test
    void shouldNameEinvalWhenMadviseStartsOffAPageBoundary() {
        MemorySegment m = Mman.mmap(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            SyscallException e = assertThrows(SyscallException.class,
                    () -> Mman.madvise(m.asSlice(1, 8), MADV_DONTNEED));
            assertEquals("madvise: EINVAL (Invalid argument)", e.getMessage());
        } finally {
            Mman.munmap(m);
        }
    }

    @Test
    void shouldTurnMapFailedIntoAnExceptionNamingTheErrno() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> Mman.mmap(0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        assertEquals("mmap", e.call());
        assertEquals("EINVAL", e.errnoName(), "a zero-length mapping is refused");
    }

    @Test
    void shouldRemoveTheMappingWhenMunmapped() throws IOException {
        MemorySegment m = Mman.mmap(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assertTrue(mapped(m.address()));
        Mman.munmap(m);
        assertFalse(mapped(m.address()));
    }

    @Test
    void shouldUnmapAnArenaOwnedMappingWhenTheArenaCloses() throws IOException {
        long address;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = Mman.mapAnonymous(arena, 3 * PAGE, PROT_READ | PROT_WRITE, 0);
            address = m.address();
            m.set(JAVA_LONG, 2 * PAGE, 7);
            assertEquals(3 * PAGE, m.byteSize());
            assertTrue(mapped(address));
        }
        assertFalse(mapped(address), "closing the arena runs munmap");
    }

    @Test
    void shouldLockAndUnlockPagesCountedInVmLck() throws IOException {
        MemorySegment m = Mman.mmap(4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try {
            long before = vmLckKb();
            Mman.mlock(m);
            assertTrue(vmLckKb() >= before + 4 * PAGE / 1024, "VmLck grows by the locked pages");
            Mman.munlock(m);
            assertEquals(before, vmLckKb());
        } finally {
            Mman.munmap(m);
        }
    }

    @Test
    void shouldStartAnAlignedMappingOnTheAlignmentWithTheLengthAskedFor() {
        long alignment = 2L << 20;
        long length = alignment + 3 * PAGE;
        MemorySegment m = Mman.mmapAligned(length, alignment, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        try {
            assertEquals(0, m.address() % alignment);
            assertEquals(length, m.byteSize());
            m.set(JAVA_LONG, 0, 1);
            m.set(JAVA_LONG, length - Long.BYTES, 2);
        } finally {
            Mman.munmap(m);
        }
        assertThrows(IllegalArgumentException.class, () -> Mman.mmapAligned(PAGE, 3 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS));
    }

    /** Whether a line of /proc/self/maps covers {@code address} (adjacent mappings may be merged). */
    private static boolean mapped(long address) throws IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            long start = Long.parseUnsignedLong(range[0], 16);
            long end = Long.parseUnsignedLong(range[1], 16);
            if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0) {
                return true;
            }
        }
        return false;
    }

    private static long vmLckKb() throws IOException {
        return java.nio.file.Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmLck:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst().orElseThrow();
    }
}
