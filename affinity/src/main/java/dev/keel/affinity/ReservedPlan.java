package dev.keel.affinity;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The CPUs of N loops, reserved in {@link CpuReservations} while the loops run, so another
 * process planning on the same machine leaves them alone and says whose they are.
 *
 * <ul>
 *   <li>{@link #plan}: a {@link CorePlan} around every CPU someone holds, then a lease on each
 *       CPU picked. Planning and reserving are two steps, so another process may take a CPU in
 *       between; the loser of that race plans again without it, at most
 *       {@value #ATTEMPTS} times.</li>
 *   <li>{@link #explicit}: CPUs a user named. They win: those no one holds are reserved, those
 *       someone holds are used anyway and reported by {@link #contested()}, so the caller can
 *       warn naming the holder.</li>
 * </ul>
 * Closing releases every lease; a process that dies releases them too (see {@link CpuLease}).
 */
public final class ReservedPlan implements AutoCloseable {
    /** Plans tried before giving up when other processes keep taking the CPUs picked. */
    static final int ATTEMPTS = 4;

    private final int[] cpus;
    private final Optional<CorePlan> plan;
    private final List<CpuLease> leases;
    private final List<CpuHolder> plannedAround;
    private final List<CpuHolder> contested;

    private ReservedPlan(int[] cpus, Optional<CorePlan> plan, List<CpuLease> leases, List<CpuHolder> plannedAround,
                         List<CpuHolder> contested) {
        this.cpus = cpus.clone();
        this.plan = plan;
        this.leases = List.copyOf(leases);
        this.plannedAround = List.copyOf(plannedAround);
        this.contested = List.copyOf(contested);
    }

    /**
     * Plans {@code loops} CPUs on {@code topology} around the CPUs held in {@code reservations}
     * and reserves them.
     *
     * @throws IllegalArgumentException when too few CPUs are usable and free, naming the holders
     * @throws IllegalStateException    when other processes took the CPUs picked {@value #ATTEMPTS} times running
     */
    public static ReservedPlan plan(CpuTopology topology, CpuReservations reservations, int loops) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            List<CpuHolder> held = reservations.holders();
            CpuSet busy = CpuSet.of(held.stream().mapToInt(CpuHolder::cpu).toArray());
            CorePlan.Planner planner = CorePlan.on(topology);
            if (!held.isEmpty()) {
                planner.excluding(busy, "reserved: " + describe(held));
            }
            CorePlan plan = planner.plan(loops);
            List<CpuLease> leases = new ArrayList<>();
            boolean all = true;
            for (int cpu : plan.cpus()) {
                Optional<CpuLease> lease = reservations.tryReserve(cpu);
                if (lease.isEmpty()) {
                    all = false;
                    break;
                }
                leases.add(lease.get());
            }
            if (all) {
                List<CpuHolder> around = held.stream().filter(h -> topology.usable().contains(h.cpu())).toList();
                return new ReservedPlan(plan.cpus(), Optional.of(plan), leases, around, List.of());
            }
            leases.forEach(CpuLease::close); // lost a race: plan again around the new holder
        }
        throw new IllegalStateException("other processes kept reserving the CPUs planned for " + loops
                + " loops (" + ATTEMPTS + " plans); reservations in " + reservations.directory());
    }

    /**
     * Reserves those of {@code cpus} no one holds; the others are used all the same and their
     * holders are in {@link #contested()}.
     */
    public static ReservedPlan explicit(CpuReservations reservations, int[] cpus) {
        List<CpuLease> leases = new ArrayList<>();
        List<CpuHolder> contested = new ArrayList<>();
        for (int cpu : cpus) {
            Optional<CpuLease> lease = reservations.tryReserve(cpu);
            if (lease.isPresent()) {
                leases.add(lease.get());
            } else {
                reservations.holder(cpu).ifPresent(contested::add);
            }
        }
        return new ReservedPlan(cpus, Optional.empty(), leases, List.of(), contested);
    }

    /** The loops' CPUs, in loop order. */
    public int[] cpus() {
        return cpus.clone();
    }

    /** The core plan with its reasons, for a planned placement; empty for explicit CPUs. */
    public Optional<CorePlan> corePlan() {
        return plan;
    }

    /** The CPUs this plan holds leases on. */
    public CpuSet reserved() {
        return leases.stream().map(CpuLease::cpus).reduce(CpuSet.empty(), CpuSet::or);
    }

    /** Usable CPUs held by others (or other loops of this process) that the plan left out. */
    public List<CpuHolder> plannedAround() {
        return plannedAround;
    }

    /** Explicit CPUs someone else holds, used anyway. */
    public List<CpuHolder> contested() {
        return contested;
    }

    /** {@code CPU 0 by pid 4242 "keel echo", CPU 1 by pid 4243 "keel serve"}. */
    public static String describe(List<CpuHolder> holders) {
        return holders.stream().map(h -> "CPU " + h.cpu() + " by " + h.who()).collect(Collectors.joining(", "));
    }

    /** Releases every lease. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (CpuLease lease : leases) {
            try {
                lease.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
