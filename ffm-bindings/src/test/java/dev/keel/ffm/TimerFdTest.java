package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.CLOCK_MONOTONIC;
import static dev.keel.ffm.gen.LinuxConstants.TFD_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.TFD_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimerFdTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void shouldFireAOneShotTimerOnce() {
        int fd = TimerFd.create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment spec = TimerFd.itimerspec(TimerFd.newItimerspec(arena), 20 * MS, 0);
                    long start = System.nanoTime();
                    TimerFd.setTime(fd, 0, spec, MemorySegment.NULL);

                    MemorySegment now = TimerFd.newItimerspec(arena);
                    TimerFd.getTime(fd, now);
                    assertTrue(TimerFd.valueNanos(now) > 0 && TimerFd.valueNanos(now) <= 20 * MS,
                            "time left " + TimerFd.valueNanos(now));
                    assertEquals(0, TimerFd.intervalNanos(now), "one-shot");

                    MemorySegment scratch = arena.allocate(JAVA_LONG);
                    assertEquals(1, TimerFd.read(fd, scratch), "a blocking read waits for the one expiry");
                    long elapsed = System.nanoTime() - start;
                    // System.nanoTime reads CLOCK_MONOTONIC too; a timer never fires early.
                    assertTrue(elapsed >= 20 * MS, "fired after " + elapsed + " ns");
                    assertEquals(1, scratch.get(JAVA_LONG, 0));

                    TimerFd.getTime(fd, now);
                    assertEquals(0, TimerFd.valueNanos(now), "an expired one-shot timer is disarmed");
                }
            });
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldReturnEagainBeforeExpiryWhenNonBlocking() {
        int fd = TimerFd.create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment scratch = arena.allocate(JAVA_LONG);
            assertEquals(-Errno.EAGAIN, TimerFd.read(fd, scratch), "a disarmed timer has nothing to read");
            TimerFd.setTime(fd, 0, TimerFd.itimerspec(TimerFd.newItimerspec(arena), 10_000 * MS, 0), MemorySegment.NULL);
            assertEquals(-Errno.EAGAIN, TimerFd.read(fd, scratch), "not expired yet");

            // Disarming hands back the setting it replaces.
            MemorySegment old = TimerFd.newItimerspec(arena);
            TimerFd.setTime(fd, 0, TimerFd.itimerspec(TimerFd.newItimerspec(arena), 0, 0), old);
            assertTrue(TimerFd.valueNanos(old) > 9_000 * MS && TimerFd.valueNanos(old) <= 10_000 * MS,
                    "old time left " + TimerFd.valueNanos(old));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldCountEveryExpiryOfAPeriodicTimer() throws InterruptedException {
        int fd = TimerFd.create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            TimerFd.setTime(fd, 0, TimerFd.itimerspec(TimerFd.newItimerspec(arena), 2 * MS, 2 * MS), MemorySegment.NULL);
            Thread.sleep(30);
            long count = TimerFd.read(fd, arena.allocate(JAVA_LONG));
            assertTrue(count >= 2, "a 2 ms timer over 30 ms expired " + count + " times");
            MemorySegment now = TimerFd.newItimerspec(arena);
            TimerFd.getTime(fd, now);
            assertEquals(2 * MS, TimerFd.intervalNanos(now));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldNameTheCallAndErrnoOnMisuse() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment spec = TimerFd.itimerspec(TimerFd.newItimerspec(arena), MS, 0);
            SyscallException e = assertThrows(SyscallException.class,
                    () -> TimerFd.setTime(-1, 0, spec, MemorySegment.NULL));
            assertEquals("timerfd_settime: EBADF (Bad file descriptor)", e.getMessage());
            assertEquals("timerfd_gettime", assertThrows(SyscallException.class, () -> TimerFd.getTime(-1, spec)).call());
            assertEquals("EBADF", assertThrows(SyscallException.class,
                    () -> TimerFd.read(-1, arena.allocate(JAVA_LONG))).errnoName());
            assertEquals("timerfd_create: EINVAL (Invalid argument)",
                    assertThrows(SyscallException.class, () -> TimerFd.create(CLOCK_MONOTONIC, -1)).getMessage());
            assertThrows(IllegalArgumentException.class, () -> TimerFd.itimerspec(spec, -1, 0));
        }
    }
}
