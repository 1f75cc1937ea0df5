package dev.keel.affinity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Where a NIC's interrupts should go given where the event loops run, as a tuner places them
 * by hand (Seastar's perftune.py, the kernel's Documentation/networking/scaling.rst):
 * <ul>
 *   <li>{@link Mode#APART} (default): off the loops' cores, so packet processing in softirq
 *       context does not preempt a loop: each IRQ gets one CPU near the NIC (its
 *       {@code local_cpulist}) that runs no loop and shares no core with one, housekeeping CPUs
 *       before isolated ones, spread round-robin;</li>
 *   <li>{@link Mode#BESIDE}: on the loops' own CPUs, IRQ i beside loop i mod N, so the data a
 *       loop reads is already in its cache (with busy polling, the loop reaps it itself).</li>
 * </ul>
 * The plan is printed as the commands that apply it; {@link #apply} writes
 * {@code /proc/irq/N/smp_affinity_list} below a root, and only when called. irqbalance, when it
 * runs, moves IRQs by itself and would undo the plan: {@link #irqbalance} finds it.
 */
public final class IrqPlan {
    /** Where the IRQs go relative to the loops. */
    public enum Mode {
        /** Off the loops' cores, on CPUs near the NIC that run no loop. */
        APART,
        /** On the loops' own CPUs, IRQ i beside loop i mod N. */
        BESIDE
    }

    /**
     * One IRQ's change.
     *
     * @param irq     the IRQ
     * @param actions its handlers' names
     * @param from    its smp_affinity_list now
     * @param to      the CPU proposed
     */
    public record Move(int irq, String actions, CpuSet from, CpuSet to) {
        /** {@code echo 2 > /proc/irq/120/smp_affinity_list}. */
        public String command() {
            return "echo " + to.toList() + " > /proc/irq/" + irq + "/smp_affinity_list";
        }
    }

    /**
     * What {@link #apply} did to one IRQ.
     *
     * @param move  the change asked
     * @param after smp_affinity_list read back after writing
     * @param error why it was refused, e.g. "EIO: a managed interrupt, placed by the kernel"
     */
    public record Applied(Move move, CpuSet after, Optional<String> error) {
    }

    private final Mode mode;
    private final CpuSet irqCpus;
    private final List<Move> moves;
    private final String why;

    private IrqPlan(Mode mode, CpuSet irqCpus, List<Move> moves, String why) {
        this.mode = mode;
        this.irqCpus = irqCpus;
        this.moves = List.copyOf(moves);
        this.why = why;
    }

    /**
     * Places {@code nic}'s IRQs relative to the loops on {@code loopCpus}.
     *
     * @throws IllegalArgumentException when the NIC has no IRQs, no loop CPU is given, or (apart)
     *                                  every online CPU runs a loop
     */
    public static IrqPlan of(CpuTopology t, NicInfo nic, CpuSet loopCpus, Mode mode) {
        if (nic.irqs().isEmpty()) {
            throw new IllegalArgumentException("NIC " + nic.name() + " has no IRQs to place");
        }
        if (loopCpus.isEmpty()) {
            throw new IllegalArgumentException("no loop CPUs to place IRQs " + (mode == Mode.APART ? "apart from" : "beside"));
        }
        List<Integer> targets;
        String why;
        if (mode == Mode.BESIDE) {
            targets = loopCpus.stream().boxed().toList();
            why = "beside the loops on CPUs " + loopCpus.toList() + ", IRQ i with loop i mod " + loopCpus.size();
        } else {
            CpuSet loopCores = loopCpus;
            for (int cpu : loopCpus.toArray()) {
                loopCores = loopCores.or(t.cpu(cpu).map(Cpu::siblings).orElse(CpuSet.empty()));
            }
            CpuSet near = nic.localCpus().isEmpty() ? t.online() : nic.localCpus().and(t.online());
            List<CpuSet> pools = List.of(near.andNot(loopCores), near.andNot(loopCpus), t.online().andNot(loopCores),
                    t.online().andNot(loopCpus));
            List<String> words = List.of("near the NIC, on cores without a loop", "near the NIC, on loop cores' other threads",
                    "on cores without a loop (none near the NIC is free)", "on loop cores' other threads (no free core)");
            int pick = 0;
            while (pick < pools.size() && pools.get(pick).isEmpty()) {
                pick++;
            }
            if (pick == pools.size()) {
                throw new IllegalArgumentException("every online CPU runs a loop (" + loopCpus.toList()
                        + "): no CPU is left for IRQs apart from them; plan fewer loops or place IRQs beside the loops");
            }
            // Housekeeping CPUs first: an IRQ on an isolated CPU undoes the isolation.
            targets = pools.get(pick).stream().boxed().sorted(Comparator.comparing((Integer c) ->
                    t.cpu(c).map(x -> x.isolated() || x.nohzFull()).orElse(false)).thenComparing(c -> c)).toList();
            why = "apart from the loops on CPUs " + loopCpus.toList() + ": " + words.get(pick);
        }
        List<Move> moves = new ArrayList<>();
        List<NicInfo.Irq> irqs = nic.irqs();
        for (int i = 0; i < irqs.size(); i++) {
            NicInfo.Irq irq = irqs.get(i);
            moves.add(new Move(irq.irq(), irq.actions(), irq.affinity(), CpuSet.of(targets.get(i % targets.size()))));
        }
        CpuSet used = CpuSet.of(moves.stream().mapToInt(m -> m.to().first()).toArray());
        return new IrqPlan(mode, used, moves, why);
    }

    /** Whether this plan puts the IRQs apart from the loops or beside them. */
    public Mode mode() {
        return mode;
    }

    /** The CPUs the IRQs go to. */
    public CpuSet irqCpus() {
        return irqCpus;
    }

    /** One per IRQ of the NIC, in IRQ order, changed or not. */
    public List<Move> moves() {
        return moves;
    }

    /** Why these CPUs, in a few words. */
    public String why() {
        return why;
    }

    /** The moves that change something: what a tuner would run. */
    public List<Move> changes() {
        return moves.stream().filter(m -> !m.from().equals(m.to())).toList();
    }

    /**
     * Writes each change to {@code root/proc/irq/N/smp_affinity_list} and reads it back. An IRQ
     * the kernel refuses (EIO for a managed interrupt, whose affinity the kernel sets itself;
     * EINVAL for a CPU the controller cannot target) is reported and the rest go on.
     */
    public List<Applied> apply(Path root) {
        List<Applied> done = new ArrayList<>();
        for (Move m : changes()) {
            Path file = root.resolve("proc/irq/" + m.irq() + "/smp_affinity_list");
            Optional<String> error = Optional.empty();
            try {
                Files.writeString(file, m.to().toList() + "\n", StandardCharsets.US_ASCII,
                        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            } catch (IOException e) {
                error = Optional.of(e.getMessage() == null ? e.toString() : e.getMessage());
            }
            CpuSet after;
            try {
                after = SysfsTree.at(root).readList("proc/irq/" + m.irq() + "/smp_affinity_list").orElse(CpuSet.empty());
            } catch (RuntimeException e) {
                after = CpuSet.empty(); // unreadable after a failed write: the error says why
            }
            if (error.isEmpty() && !after.equals(m.to())) {
                error = Optional.of("the kernel kept " + after.toList());
            }
            done.add(new Applied(m, after, error));
        }
        return done;
    }

    /** The pid of a running irqbalance below {@code root} (its /proc), if one runs. */
    public static OptionalLong irqbalance(Path root) {
        Path proc = root.resolve("proc");
        if (!Files.isDirectory(proc)) {
            return OptionalLong.empty();
        }
        try (Stream<Path> entries = Files.list(proc)) {
            return entries.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> SysfsTree.at(root).read(p.resolve("comm")).orElse("").equals("irqbalance"))
                    .mapToLong(p -> Long.parseLong(p.getFileName().toString())).min();
        } catch (IOException e) {
            return OptionalLong.empty(); // /proc entries come and go while listed
        }
    }
}
