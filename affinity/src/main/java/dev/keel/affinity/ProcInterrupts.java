package dev.keel.affinity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code /proc/interrupts}: a header of CPU columns ({@code CPU0 CPU1 ...}, online CPUs only),
 * then one line per interrupt: {@code "NN:"}, a count per column, the interrupt chip (which for
 * MSI names the PCI function: {@code PCI-MSIX-0000:00:03.0}, {@code IR-PCI-MSI-0000:41:00.0}),
 * the hardware IRQ and trigger ({@code 1-edge}), then the handlers' names, comma-separated.
 * Lines of architecture interrupts ({@code NMI:}, {@code LOC:}) have no number and are skipped.
 */
final class ProcInterrupts {
    /**
     * One numbered interrupt.
     *
     * @param irq       its number
     * @param perCpu    how many times each CPU took it since boot, by CPU number
     * @param chip      the chip (and hardware IRQ) words between the counts and the actions
     * @param actions   the handlers' names as printed, e.g. {@code "eth0-TxRx-0"}
     */
    record Line(int irq, long[] perCpu, String chip, String actions) {
        /** The CPUs that took it at least once. */
        CpuSet handledOn() {
            CpuSet on = CpuSet.empty();
            for (int cpu = 0; cpu < perCpu.length; cpu++) {
                if (perCpu[cpu] > 0) {
                    on = on.with(cpu);
                }
            }
            return on;
        }

        long total() {
            return Arrays.stream(perCpu).sum();
        }
    }

    private ProcInterrupts() {
    }

    /** The numbered interrupts of {@code text}; an empty list for an empty file. */
    static List<Line> parse(List<String> text) {
        if (text.isEmpty()) {
            return List.of();
        }
        int[] columns = Arrays.stream(text.get(0).trim().split("\\s+")).filter(s -> s.startsWith("CPU"))
                .mapToInt(s -> Integer.parseInt(s.substring(3))).toArray();
        int maxCpu = Arrays.stream(columns).max().orElse(-1);
        List<Line> lines = new ArrayList<>();
        for (String line : text.subList(1, text.size())) {
            int colon = line.indexOf(':');
            String head = colon < 0 ? "" : line.substring(0, colon).trim();
            if (head.isEmpty() || !head.chars().allMatch(Character::isDigit)) {
                continue;
            }
            String[] f = line.substring(colon + 1).trim().split("\\s+");
            long[] perCpu = new long[maxCpu + 1];
            int i = 0;
            for (; i < columns.length && i < f.length && f[i].chars().allMatch(Character::isDigit); i++) {
                perCpu[columns[i]] = Long.parseLong(f[i]);
            }
            // The handlers follow the trigger word ("1-edge", "edge", "fasteoi", "level"); the words before are the chip.
            int trigger = -1;
            for (int k = i; k < f.length; k++) {
                if (f[k].endsWith("edge") || f[k].endsWith("level") || f[k].endsWith("fasteoi")) {
                    trigger = k;
                }
            }
            int actionsFrom = trigger >= 0 ? trigger + 1 : f.length - 1;
            String chip = String.join(" ", Arrays.asList(f).subList(i, Math.max(i, Math.min(actionsFrom, f.length))));
            String actions = actionsFrom < f.length ? String.join(" ", Arrays.asList(f).subList(actionsFrom, f.length)) : "";
            lines.add(new Line(Integer.parseInt(head), perCpu, chip, actions));
        }
        return lines;
    }
}
