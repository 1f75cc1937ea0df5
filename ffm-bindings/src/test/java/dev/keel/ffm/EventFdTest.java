package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.EFD_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EFD_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EventFdTest {
    @Test
    void shouldSumWritesAndResetOnRead() {
        int fd = EventFd.create(0, EFD_NONBLOCK | EFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(JAVA_LONG);
            assertEquals(-Errno.EAGAIN, EventFd.read(fd, buf), "an empty non-blocking eventfd reads EAGAIN");
            buf.set(JAVA_LONG, 0, 3);
            assertEquals(8, EventFd.write(fd, buf));
            buf.set(JAVA_LONG, 0, 4);
            assertEquals(8, EventFd.write(fd, buf));
            assertEquals(8, EventFd.read(fd, buf));
            assertEquals(7, buf.get(JAVA_LONG, 0));
            assertEquals(-Errno.EAGAIN, EventFd.read(fd, buf));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldNameTheCallAndErrnoOnABadDescriptor() {
        try (Arena arena = Arena.ofConfined()) {
            SyscallException e = assertThrows(SyscallException.class,
                    () -> EventFd.read(-1, arena.allocate(JAVA_LONG)));
            assertEquals("EBADF", e.errnoName());
            assertEquals("eventfd read: EBADF (Bad file descriptor)", e.getMessage());
        }
    }
}
