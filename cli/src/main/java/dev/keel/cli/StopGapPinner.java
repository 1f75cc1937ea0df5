package dev.keel.cli;

import dev.keel.io.CpuPinner;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Pins a loop thread with sched_setaffinity(2) and reads the CPU back with sched_getcpu(3).
 *
 * <p>A stop-gap so that {@code --cpus} works on this branch before the affinity module
 * ({@code dev.keel.affinity.Affinity::pinCurrentThread}, with its {@code Sched} binding and
 * topology checks) is merged; it should then be replaced by that and deleted. It runs once per
 * loop at start, so its per-call arena is no hot-path concern.
 *
 * <pre>{@code
 * int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);
 * int sched_getcpu(void);
 * }</pre>
 */
final class StopGapPinner implements CpuPinner {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SETAFFINITY = LINKER.downcallHandle(
            LINKER.defaultLookup().find("sched_setaffinity").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.captureCallState("errno"));
    private static final MethodHandle GETCPU = LINKER.downcallHandle(
            LINKER.defaultLookup().find("sched_getcpu").orElseThrow(), FunctionDescriptor.of(JAVA_INT));

    @Override
    public int pinCurrentThread(int cpu) {
        // A mask just long enough for this CPU: the kernel reads the bits it is given and
        // treats the rest as clear, so no libc CPU_SETSIZE is needed.
        long bytes = 8L * (cpu / 64 + 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(bytes, 8);
            mask.set(JAVA_LONG, 8L * (cpu / 64), 1L << (cpu % 64));
            MemorySegment state = arena.allocate(CAPTURE);
            int r = (int) SETAFFINITY.invokeExact(state, 0, bytes, mask);
            if (r != 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new IllegalArgumentException("cannot run a loop on CPU " + cpu + ": sched_setaffinity: "
                        + dev.keel.ffm.gen.Errno.name(errno) + " (" + dev.keel.ffm.gen.Errno.message(errno) + ")");
            }
            return (int) GETCPU.invokeExact();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
