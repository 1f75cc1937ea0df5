package dev.keel.ffm;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);

    /** Runs {@code body} on a fresh platform thread, so pinning never leaks into the test runner. */
    private static void onOwnThread(Runnable body) {
        assertTimeoutPreemptively(LIMIT, () -> {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("sched-test").start(() -> {
                try {
                    body.run();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            t.join();
            if (failure.get() != null) {
                throw failure.get();
            }
        });
    }

    /** nr_cpu_ids: one past the highest CPU the kernel could ever bring up (sysfs "possible"). */
    private static int nrCpuIds() throws IOException {
        String possible = java.nio.file.Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim();
        String last = possible.substring(possible.lastIndexOf(',') + 1);
        return Integer.parseInt(last.substring(last.lastIndexOf('-') + 1)) + 1;
    }

    @Test
    void shouldPinToEachAllowedCpuAndReadItBackWithGetcpuAndTheMask() {
        onOwnThread(() -> {
            BitSet allowed = Sched.getAffinity(0);
            assertFalse(allowed.isEmpty(), "a running thread has at least one CPU");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cpuAndNode = arena.allocate(JAVA_INT, 2);
                allowed.stream().forEach(cpu -> {
                    BitSet one = new BitSet();
                    one.set(cpu);
                    Sched.setAffinity(0, one);
                    assertEquals(cpu, Sched.getcpu(), "sched_getcpu after pinning to CPU " + cpu);
                    assertEquals(one, Sched.getAffinity(0), "mask read back after pinning to CPU " + cpu);
                    Sched.getcpu(cpuAndNode);
                    assertEquals(cpu, cpuAndNode.getAtIndex(JAVA_INT, 0), "getcpu(2) cpu");
                    assertTrue(java.nio.file.Files.exists(Path.of("/sys/devices/system/cpu/cpu" + cpu
                            + "/node" + cpuAndNode.getAtIndex(JAVA_INT, 1))), "getcpu(2) node is the CPU's sysfs node");
                });
            }
            Sched.setAffinity(0, allowed);
            assertEquals(allowed, Sched.getAffinity(0), "the original mask restored");
        });
    }

    @Test
    void shouldSizeTheMaskFromTheKernelNotFromAFixedCap() throws IOException {
        long word = Long.BYTES;
        long expected = (nrCpuIds() + word * Byte.SIZE - 1) / (word * Byte.SIZE) * word;
        assertEquals(expected, Sched.maskBytes(), "nr_cpu_ids rounded up to whole words");
        try (Arena arena = Arena.ofConfined()) {
            SyscallException tooSmall = assertThrows(SyscallException.class,
                    () -> Sched.getAffinity(0, arena.allocate(0)));
            assertEquals("EINVAL", tooSmall.errnoName(), "the kernel refuses a mask shorter than nr_cpu_ids");
            MemorySegment large = arena.allocate(Sched.maskBytes() * 16);
            large.fill((byte) -1);
            Sched.getAffinity(0, large);
            assertEquals(Sched.getAffinity(0), BitSet.valueOf(large.asByteBuffer()),
                    "a longer buffer is accepted and cleared past the kernel's CPUs");
        }
    }

    @Test
    void shouldRefuseACpuPastTheMachineWithEinvalAndKeepTheMask() {
        onOwnThread(() -> {
            BitSet before = Sched.getAffinity(0);
            int past = (int) (Sched.maskBytes() * Byte.SIZE) + 64 * 3 + 5;
            BitSet bad = new BitSet();
            bad.set(past);
            SyscallException e = assertThrows(SyscallException.class, () -> Sched.setAffinity(0, bad));
            assertEquals("EINVAL", e.errnoName());
            assertTrue(e.getMessage().startsWith("sched_setaffinity: EINVAL (Invalid argument)"), e.getMessage());
            assertTrue(e.getMessage().contains("{" + past + "}"), "names the CPU asked for: " + e.getMessage());
            assertEquals(before, Sched.getAffinity(0), "a refused call leaves the mask as it was");
        });
    }

    @Test
    void shouldGiveEachThreadItsOwnKernelThreadId() throws Exception {
        AtomicInteger other = new AtomicInteger();
        AtomicReference<Path> otherTask = new AtomicReference<>();
        onOwnThread(() -> {
            other.set(Sched.gettid());
            try {
                otherTask.set(Path.of("/proc/thread-self").toRealPath());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals("/proc/" + ProcessHandle.current().pid() + "/task/" + other.get(), otherTask.get().toString(),
                "gettid is the id /proc/thread-self names");
        assertNotEquals(other.get(), Sched.gettid(), "two threads, two ids");
    }
}
