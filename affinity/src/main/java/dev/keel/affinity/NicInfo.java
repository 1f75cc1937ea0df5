package dev.keel.affinity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where a network interface sits: the NUMA node of its device and its interrupts with the
 * CPUs they may run on and do run on. A report only: nothing here changes an IRQ's affinity
 * (see {@link IrqPlan}).
 *
 * <p>Read from {@code /sys/class/net/IFACE/device} and its parents (a virtio NIC's node and
 * MSI-X vectors are on the PCI function above the virtio device), {@code /proc/irq/N} and
 * {@code /proc/interrupts}. The NIC's interrupts are its PCI function's MSI/MSI-X vectors
 * ({@code msi_irqs}), its legacy line ({@code irq}), and the lines of /proc/interrupts whose
 * chip names its PCI function or whose handler names the interface ({@code eth0-TxRx-0}):
 * some drivers' vectors show only there.
 *
 * @param name      the interface name
 * @param device    its device directory as the kernel names it; empty for a virtual interface
 * @param node      the device's NUMA node; empty when the platform gives none (numa_node -1)
 * @param localCpus the CPUs near the device ({@code local_cpulist}); empty when unknown
 * @param irqs      its interrupts (MSI/MSI-X vectors, else the legacy line)
 */
public record NicInfo(String name, Optional<String> device, OptionalInt node, CpuSet localCpus, List<Irq> irqs) {
    /**
     * One interrupt of the NIC.
     *
     * @param irq       the IRQ number
     * @param actions   the handler names, e.g. {@code "eth0-TxRx-0"} or {@code "virtio2-input.0"}
     * @param affinity  where it may be delivered ({@code smp_affinity_list})
     * @param effective where the interrupt controller delivers it ({@code effective_affinity_list})
     * @param handledOn the CPUs that took it since boot (non-zero counts in /proc/interrupts)
     * @param count     how many times it fired since boot, on all CPUs
     */
    public record Irq(int irq, String actions, CpuSet affinity, Optional<CpuSet> effective, CpuSet handledOn,
                      long count) {
    }

    /** Copies {@code irqs}, so the record stays as read from sysfs and procfs. */
    public NicInfo {
        irqs = List.copyOf(irqs);
    }

    /** The interface {@code iface} of this machine. */
    public static NicInfo read(String iface) {
        return read(Path.of("/"), iface);
    }

    /**
     * The interface {@code iface} of the machine whose sysfs and procfs are below {@code root}.
     *
     * @throws IllegalArgumentException when there is no such interface
     */
    public static NicInfo read(Path root, String iface) {
        if (iface.isEmpty() || iface.contains("/") || iface.equals(".") || iface.equals("..")) {
            throw new IllegalArgumentException("'" + iface + "' is not an interface name");
        }
        SysfsTree tree = SysfsTree.at(root);
        Path cls = tree.path("sys/class/net/" + iface);
        if (!Files.exists(cls)) {
            throw new IllegalArgumentException("no network interface '" + iface + "' (nothing at "
                    + tree.display(cls) + ")");
        }
        Path link = cls.resolve("device");
        if (!Files.exists(link)) {
            return new NicInfo(iface, Optional.empty(), OptionalInt.empty(), CpuSet.empty(), List.of());
        }
        try {
            Path devices = tree.path("sys/devices").toRealPath();
            Path device = link.toRealPath();
            List<Path> upward = new ArrayList<>();
            for (Path d = device; d != null && d.startsWith(devices) && !d.equals(devices); d = d.getParent()) {
                upward.add(d);
            }
            OptionalInt node = nearest(upward, "numa_node").flatMap(tree::read).map(Integer::parseInt)
                    .filter(n -> n >= 0).map(OptionalInt::of).orElse(OptionalInt.empty());
            CpuSet local = nearest(upward, "local_cpulist").flatMap(tree::readList).orElse(CpuSet.empty());
            List<ProcInterrupts.Line> interrupts = ProcInterrupts.parse(tree.lines("proc/interrupts"));
            List<Irq> irqs = irqNumbers(tree, upward, iface, interrupts).stream().map(n -> irq(tree, n, interrupts)).toList();
            return new NicInfo(iface, Optional.of("/" + tree.root().toRealPath().relativize(device)), node, local, irqs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the device of " + iface, e);
        }
    }

    private static Optional<Path> nearest(List<Path> upward, String name) {
        return upward.stream().map(d -> d.resolve(name)).filter(Files::isRegularFile).findFirst();
    }

    private static final java.util.regex.Pattern PCI_ADDRESS =
            java.util.regex.Pattern.compile("\\p{XDigit}{4,}:\\p{XDigit}{2}:\\p{XDigit}{2}\\.\\p{XDigit}");

    private static List<Integer> irqNumbers(SysfsTree tree, List<Path> upward, String iface,
                                            List<ProcInterrupts.Line> interrupts) throws IOException {
        java.util.SortedSet<Integer> found = new java.util.TreeSet<>();
        Optional<Path> msi = upward.stream().map(d -> d.resolve("msi_irqs")).filter(Files::isDirectory).findFirst();
        if (msi.isPresent()) {
            try (Stream<Path> entries = Files.list(msi.get())) {
                entries.map(p -> p.getFileName().toString()).filter(s -> s.chars().allMatch(Character::isDigit))
                        .forEach(s -> found.add(Integer.parseInt(s)));
            }
        } else {
            nearest(upward, "irq").flatMap(tree::read).map(Integer::parseInt).filter(n -> n > 0).ifPresent(found::add);
        }
        Optional<String> pci = upward.stream().map(d -> d.getFileName().toString())
                .filter(n -> PCI_ADDRESS.matcher(n).matches()).findFirst();
        for (ProcInterrupts.Line line : interrupts) {
            boolean ofDevice = pci.isPresent() && (line.chip().contains(pci.get()) || line.actions().contains(pci.get()));
            if (ofDevice || namesInterface(line.actions(), iface)) {
                found.add(line.irq());
            }
        }
        return List.copyOf(found);
    }

    /** Whether one of the handler names is the interface or one of its queues ("eth0", "eth0-TxRx-3", "eth0_rx0"). */
    private static boolean namesInterface(String actions, String iface) {
        for (String a : actions.split("[,\\s]+")) {
            if (a.equals(iface) || a.startsWith(iface + "-") || a.startsWith(iface + "_")) {
                return true;
            }
        }
        return false;
    }

    private static Irq irq(SysfsTree tree, int n, List<ProcInterrupts.Line> interrupts) {
        String dir = "proc/irq/" + n + "/";
        String actions = "";
        Path d = tree.path(dir);
        if (Files.isDirectory(d)) {
            try (Stream<Path> entries = Files.list(d)) {
                actions = entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted()
                        .collect(Collectors.joining(","));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + d, e);
            }
        }
        Optional<ProcInterrupts.Line> line = interrupts.stream().filter(l -> l.irq() == n).findFirst();
        if (actions.isEmpty() && line.isPresent()) {
            actions = line.get().actions().replace(" ", "");
        }
        return new Irq(n, actions, tree.readList(dir + "smp_affinity_list").orElse(CpuSet.empty()),
                tree.readList(dir + "effective_affinity_list"),
                line.map(ProcInterrupts.Line::handledOn).orElse(CpuSet.empty()),
                line.map(ProcInterrupts.Line::total).orElse(0L));
    }
}
