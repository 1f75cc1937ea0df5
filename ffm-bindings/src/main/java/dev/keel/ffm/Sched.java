package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.BitSet;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * CPU affinity and the CPU a thread runs on: sched_setaffinity(2), sched_getaffinity(2),
 * sched_getcpu(3), getcpu(2), gettid(2).
 *
 * <pre>{@code
 * int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);
 * int sched_getaffinity(pid_t pid, size_t cpusetsize, cpu_set_t *mask);
 * int sched_getcpu(void);
 * int getcpu(unsigned int *cpu, unsigned int *node);
 * pid_t gettid(void);
 * }</pre>
 *
 * <p>A {@code pid} of 0 means the calling thread (Linux affinity is per thread: the pid
 * argument is a thread id). A CPU mask is an array of {@code unsigned long}, CPU {@code n}
 * being bit {@code n % 64} of word {@code n / 64}, which is exactly the word layout of
 * {@link BitSet#toLongArray()}.
 *
 * <p>Masks are sized from the machine, never from a fixed {@code CPU_SETSIZE}: the kernel
 * refuses (EINVAL) a sched_getaffinity buffer shorter than {@code nr_cpu_ids} bits, so the
 * first call starts at one word and doubles until the kernel accepts it, as glibc's
 * {@code CPU_ALLOC} users do; the size found is remembered ({@link #maskBytes()}).
 */
public final class Sched {
    /** One word of a CPU mask: the C {@code unsigned long}, as the linker lays it out. */
    private static final MemoryLayout WORD = Downcalls.LINKER.canonicalLayouts().get("long");
    /** Far past any machine Linux supports (CONFIG_NR_CPUS tops out at 8192); stops a runaway doubling. */
    private static final long MAX_MASK_BYTES = 1L << 20;

    private static final MethodHandle SCHED_SETAFFINITY = Downcalls.errnoHandle("sched_setaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), false);
    private static final MethodHandle SCHED_GETAFFINITY = Downcalls.errnoHandle("sched_getaffinity",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), true);
    private static final MethodHandle SCHED_GETCPU = Downcalls.errnoHandle("sched_getcpu",
            FunctionDescriptor.of(JAVA_INT), true);
    private static final MethodHandle GETCPU = Downcalls.errnoHandle("getcpu",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), true);
    private static final MethodHandle UNSHARE = Downcalls.errnoHandle("unshare",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
    private static final MethodHandle GETTID = Downcalls.plainHandle("gettid",
            FunctionDescriptor.of(JAVA_INT), true);

    /** Smallest mask size (bytes) the kernel has accepted so far; grows, never shrinks. */
    private static volatile long maskBytes = WORD.byteSize();
    /** Whether {@link #maskBytes} has been confirmed by a successful sched_getaffinity. */
    private static volatile boolean sized;

    private Sched() {
    }

    /**
     * The size in bytes of a CPU mask the kernel accepts on this machine
     * ({@code nr_cpu_ids} rounded up to whole words), found by asking the kernel.
     */
    public static long maskBytes() {
        if (!sized) {
            getAffinity(0);
        }
        return maskBytes;
    }

    /**
     * sched_getaffinity into {@code mask} (its whole size is passed; it must be a multiple of
     * the word size). Bits past what the kernel knows are cleared.
     *
     * @throws SyscallException EINVAL when {@code mask} is shorter than the kernel's mask,
     *                          ESRCH when {@code tid} does not exist
     */
    public static void getAffinity(int tid, MemorySegment mask) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("sched_getaffinity",
                    (int) SCHED_GETAFFINITY.invokeExact(st, tid, mask.byteSize(), mask), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * sched_setaffinity from {@code mask} (its whole size is passed). The kernel keeps only
     * the CPUs it may run the thread on (online, inside the cgroup cpuset) and fails with
     * EINVAL when none is left.
     */
    public static void setAffinity(int tid, MemorySegment mask) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("sched_setaffinity",
                    (int) SCHED_SETAFFINITY.invokeExact(st, tid, mask.byteSize(), mask), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * The affinity mask of thread {@code tid} (0: the calling thread), with a buffer grown on
     * EINVAL until it holds every CPU the kernel can name. Set-up code: allocates.
     */
    public static BitSet getAffinity(int tid) {
        long size = maskBytes;
        while (true) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment mask = arena.allocate(size, WORD.byteAlignment());
                try {
                    getAffinity(tid, mask);
                } catch (SyscallException e) {
                    if (e.errno() == Errno.EINVAL && size < MAX_MASK_BYTES) {
                        size *= 2;
                        continue;
                    }
                    throw e;
                }
                learned(size);
                return BitSet.valueOf(mask.toArray(JAVA_LONG));
            }
        }
    }

    /**
     * Sets the affinity of thread {@code tid} (0: the calling thread) to {@code cpus}. The mask
     * passed is as long as the highest CPU asked for needs, and at least {@link #maskBytes()},
     * so no CPU is cut off by a fixed size.
     *
     * @throws SyscallException EINVAL, with the CPUs asked for, when none of them can be used
     *                          (offline, past the machine, outside the cgroup cpuset)
     */
    public static void setAffinity(int tid, BitSet cpus) {
        long[] words = cpus.toLongArray();
        long size = Math.max(maskBytes(), words.length * WORD.byteSize());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(size, WORD.byteAlignment());
            MemorySegment.copy(words, 0, mask, JAVA_LONG, 0, words.length);
            setAffinity(tid, mask);
        } catch (SyscallException e) {
            if (e.errno() == Errno.EINVAL) {
                throw new SyscallException("sched_setaffinity", e.errno(),
                        "no CPU of " + cpus + " can run this thread (offline, past the machine's "
                                + maskBytes() * Byte.SIZE + "-bit mask, or outside its cpuset)");
            }
            throw e;
        }
    }

    /** sched_getcpu(3): the CPU the calling thread is running on (vDSO, no syscall on x86-64). */
    public static int getcpu() {
        MemorySegment st = CallState.current();
        try {
            return Downcalls.check("sched_getcpu", (int) SCHED_GETCPU.invokeExact(st), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /**
     * getcpu(2) into {@code cpuAndNode}: two {@code unsigned int}s, the CPU at offset 0 and
     * its NUMA node at offset 4. Lets a hot path read both into memory it owns.
     */
    public static void getcpu(MemorySegment cpuAndNode) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("getcpu", (int) GETCPU.invokeExact(st, cpuAndNode,
                    cpuAndNode.asSlice(JAVA_INT.byteSize())), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** The NUMA node of the CPU the calling thread is running on (getcpu(2)). Allocates. */
    public static int currentNode() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment both = arena.allocate(ValueLayout.JAVA_INT, 2);
            getcpu(both);
            return both.getAtIndex(JAVA_INT, 1);
        }
    }

    /** gettid(2): the kernel thread id of the calling thread (what ps -L and /proc/PID/task show). */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    private static synchronized void learned(long size) {
        if (size > maskBytes) {
            maskBytes = size;
        }
        sized = true;
    }

    /**
     * unshare(2) for the calling thread: with CLONE_NEWNET it moves this thread alone into a new
     * network namespace (sockets it makes from then on live there). Needs CAP_SYS_ADMIN.
     *
     * <pre>{@code int unshare(int flags);}</pre>
     */
    public static void unshare(int flags) {
        MemorySegment st = CallState.current();
        try {
            Downcalls.check("unshare", (int) UNSHARE.invokeExact(st, flags), st);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
