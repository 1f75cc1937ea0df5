package dev.keel.affinity;

import java.util.Arrays;
import java.util.OptionalInt;
import java.util.concurrent.ThreadFactory;

/**
 * A {@link ThreadFactory} whose threads each run pinned to their own CPU of a plan: the first
 * thread to CPU {@code cpus[0]}, the next to {@code cpus[1]}, and so on. A thread pins itself
 * first thing when it starts (affinity is set by the thread on itself) and checks where it
 * landed (see {@link Affinity#pinCurrentThread(int)}) before running its task.
 *
 * <p>A CPU is given to one live thread at a time. When every CPU of the plan has a thread,
 * {@link #newThread} refuses rather than doubling up; when a thread ends, its CPU goes to
 * the next thread made. Optionally each thread also holds a {@link CpuReservations} lease on
 * its CPU while it runs, so other processes using the same directory keep off it.
 *
 * <p>Works wherever a ThreadFactory does, for example as the thread factory of Netty's
 * {@code MultiThreadIoEventLoopGroup(nThreads, threadFactory, ioHandlerFactory)}, which has no
 * pinning of its own: one event loop per CPU of the plan.
 */
public final class PinnedThreadFactory implements ThreadFactory {
    private final String prefix;
    private final int[] cpus;
    private final boolean daemon;
    private final CpuReservations reservations;
    private final Thread[] owners;

    private PinnedThreadFactory(String prefix, int[] cpus, boolean daemon, CpuReservations reservations) {
        if (cpus.length == 0) {
            throw new IllegalArgumentException("a pinned thread factory needs at least one CPU");
        }
        if (Arrays.stream(cpus).distinct().count() != cpus.length) {
            throw new IllegalArgumentException("CPUs " + Arrays.toString(cpus) + " name one CPU twice");
        }
        this.prefix = prefix;
        this.cpus = cpus.clone();
        this.daemon = daemon;
        this.reservations = reservations;
        this.owners = new Thread[cpus.length];
    }

    /** Threads named {@code prefix-0}, {@code prefix-1}, ... pinned to the CPUs of {@code plan} in order. */
    public PinnedThreadFactory(String prefix, CorePlan plan) {
        this(prefix, plan.cpus(), false, null);
    }

    /**
     * Threads pinned to {@code cpus} in order.
     *
     * @throws IllegalArgumentException when the kernel would refuse one of them on this machine
     */
    public static PinnedThreadFactory onCpus(String prefix, int... cpus) {
        CpuTopology t = CpuTopology.system();
        for (int cpu : cpus) {
            t.whyNotAllowed(cpu).ifPresent(why -> {
                throw new IllegalArgumentException("cannot pin threads to CPU " + cpu + ": " + why);
            });
        }
        return new PinnedThreadFactory(prefix, cpus, false, null);
    }

    /** The same factory making daemon threads (or not). */
    public PinnedThreadFactory daemon(boolean on) {
        return new PinnedThreadFactory(prefix, cpus, on, reservations);
    }

    /**
     * The same factory whose threads each reserve their CPU in {@code r} while they run; a
     * thread whose CPU is held elsewhere fails at start, naming the holder.
     */
    public PinnedThreadFactory reserving(CpuReservations r) {
        return new PinnedThreadFactory(prefix, cpus, daemon, r);
    }

    /** The CPUs of the plan, in the order threads get them. */
    public int[] cpus() {
        return cpus.clone();
    }

    /**
     * A platform thread that pins itself to the next free CPU of the plan, then runs {@code task}.
     *
     * @throws IllegalStateException when every CPU of the plan already has a live thread
     */
    @Override
    public synchronized Thread newThread(Runnable task) {
        for (int slot = 0; slot < cpus.length; slot++) {
            Thread owner = owners[slot];
            if (owner == null || owner.getState() == Thread.State.TERMINATED) {
                int cpu = cpus[slot];
                Thread t = Thread.ofPlatform().name(prefix + "-" + slot).daemon(daemon)
                        .unstarted(() -> runPinned(cpu, task));
                owners[slot] = t;
                return t;
            }
        }
        throw new IllegalStateException("every CPU of " + prefix + "'s plan (" + CpuSet.of(cpus).toList()
                + ") has a live thread; a thread per CPU is the point");
    }

    /** The CPU {@code thread} was made for, if this factory made it. */
    public synchronized OptionalInt cpuOf(Thread thread) {
        for (int slot = 0; slot < cpus.length; slot++) {
            if (owners[slot] == thread) {
                return OptionalInt.of(cpus[slot]);
            }
        }
        return OptionalInt.empty();
    }

    private void runPinned(int cpu, Runnable task) {
        CpuLease lease = reservations != null ? reservations.reserve(cpu) : null;
        try {
            Affinity.pinCurrentThread(cpu);
            task.run();
        } finally {
            if (lease != null) {
                lease.close();
            }
        }
    }
}
