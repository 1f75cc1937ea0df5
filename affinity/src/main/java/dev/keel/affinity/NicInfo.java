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
 * CPUs they may run on and do run on. A report only: nothing here changes an IRQ's affinity.
 *
 * <p>Read from {@code /sys/class/net/IFACE/device} and its parents (a virtio NIC's node and
 * MSI-X vectors are on the PCI function above the virtio device) and {@code /proc/irq/N}.
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
     */
    public record Irq(int irq, String actions, CpuSet affinity, Optional<CpuSet> effective) {
    }

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
            List<Irq> irqs = irqNumbers(tree, upward).stream().map(n -> irq(tree, n)).toList();
            return new NicInfo(iface, Optional.of("/" + tree.root().toRealPath().relativize(device)), node, local, irqs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the device of " + iface, e);
        }
    }

    private static Optional<Path> nearest(List<Path> upward, String name) {
        return upward.stream().map(d -> d.resolve(name)).filter(Files::isRegularFile).findFirst();
    }

    private static List<Integer> irqNumbers(SysfsTree tree, List<Path> upward) throws IOException {
        Optional<Path> msi = upward.stream().map(d -> d.resolve("msi_irqs")).filter(Files::isDirectory).findFirst();
        if (msi.isPresent()) {
            try (Stream<Path> entries = Files.list(msi.get())) {
                return entries.map(p -> p.getFileName().toString()).filter(s -> s.chars().allMatch(Character::isDigit))
                        .map(Integer::parseInt).sorted().toList();
            }
        }
        return nearest(upward, "irq").flatMap(tree::read).map(Integer::parseInt).filter(n -> n > 0)
                .map(List::of).orElse(List.of());
    }

    private static Irq irq(SysfsTree tree, int n) {
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
        return new Irq(n, actions, tree.readList(dir + "smp_affinity_list").orElse(CpuSet.empty()),
                tree.readList(dir + "effective_affinity_list"));
    }
}
