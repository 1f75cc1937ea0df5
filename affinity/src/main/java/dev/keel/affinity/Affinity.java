package dev.keel.affinity;

import dev.keel.ffm.Sched;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;

/**
 * Pins the calling thread and reads back where it landed. Every pin is checked: the kernel
 * silently drops CPUs it will not use (offline, outside the cgroup cpuset) from a mask that
 * still has others, so the mask is read back and a narrower result is refused rather than
 * trusted. Masks are as large as the machine needs (see {@link Sched}).
 *
 * <p>Only platform threads can be pinned. A virtual thread runs on whichever carrier thread
 * the scheduler gives it, so pinning "it" would pin its current carrier, and with it every
 * other virtual thread that carrier later runs; that is refused.
 */
public final class Affinity {
    private Affinity() {
    }

    /**
     * Pins the calling thread to {@code cpu} and returns the CPU it then runs on, read back
     * with sched_getcpu (the kernel migrates the thread before sched_setaffinity returns).
     *
     * @throws IllegalArgumentException when the CPU does not exist, is offline or is outside
     *                                  the cgroup cpuset, with the reason
     * @throws IllegalStateException    on a virtual thread, or when the read-back disagrees
     */
    public static int pinCurrentThread(int cpu) {
        CpuSet got = pinCurrentThread(CpuSet.of(cpu));
        int now = Sched.getcpu();
        if (!got.equals(CpuSet.of(cpu)) || now != cpu) {
            throw new IllegalStateException("pinned to CPU " + cpu + " but the thread runs on CPU " + now
                    + " with mask " + got.toList());
        }
        return now;
    }

    /**
     * Sets the calling thread's affinity to exactly {@code cpus} and returns the mask read
     * back. If the kernel kept only some of them, the previous mask is restored and the call
     * fails naming the CPUs it refused and why.
     *
     * @throws IllegalArgumentException when {@code cpus} is empty or the kernel refuses any of them
     * @throws IllegalStateException    on a virtual thread
     */
    public static CpuSet pinCurrentThread(CpuSet cpus) {
        refuseVirtualThread();
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("cannot pin to an empty set of CPUs");
        }
        CpuSet before = currentMask();
        try {
            Sched.setAffinity(0, cpus.toBitSet());
        } catch (SyscallException e) {
            if (e.errno() == Errno.EINVAL) {
                throw new IllegalArgumentException("cannot pin to CPU " + cpus.toList() + ": "
                        + reasons(cpus) + " (" + e.getMessage() + ")", e);
            }
            throw e;
        }
        CpuSet after = currentMask();
        if (!after.equals(cpus)) {
            Sched.setAffinity(0, before.toBitSet());
            throw new IllegalArgumentException("cannot pin to CPU " + cpus.toList() + ": the kernel kept only "
                    + after.toList() + "; " + reasons(cpus.andNot(after)));
        }
        return after;
    }

    /** The calling thread's affinity mask, however many CPUs the machine has. */
    public static CpuSet currentMask() {
        return CpuSet.of(Sched.getAffinity(0));
    }

    /** The CPU the calling thread runs on now (sched_getcpu; may change unless pinned to one CPU). */
    public static int currentCpu() {
        return Sched.getcpu();
    }

    /** The calling thread's kernel thread id (gettid), as ps -L, top -H and /proc/PID/task show it. */
    public static int currentTid() {
        return Sched.gettid();
    }

    private static void refuseVirtualThread() {
        Thread t = Thread.currentThread();
        if (t.isVirtual()) {
            throw new IllegalStateException("cannot pin virtual thread " + t
                    + ": sched_setaffinity would pin its carrier thread, which runs other virtual threads;"
                    + " pin a platform thread (Thread.ofPlatform(), PinnedThreadFactory)");
        }
    }

    /** What this machine says about each CPU the kernel refused. */
    private static String reasons(CpuSet refused) {
        CpuTopology t = CpuTopology.system();
        StringBuilder sb = new StringBuilder();
        refused.stream().forEach(cpu -> {
            if (!sb.isEmpty()) {
                sb.append("; ");
            }
            sb.append(t.whyNotAllowed(cpu).orElse("CPU " + cpu + " was refused by the kernel"));
        });
        return sb.toString();
    }
}
