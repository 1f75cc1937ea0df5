package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import dev.keel.affinity.testing.Fixtures;
import dev.keel.affinity.testing.RecordedMachines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NicInfoTest {
    @TempDir
    Path dir;

    @Test
    void shouldReadTheNicsNodeAndItsInterruptsAffinity() {
        NicInfo eth0 = NicInfo.read(Fixtures.fourNodes(dir), "eth0");
        assertEquals(2, eth0.node().orElseThrow());
        assertEquals(CpuSet.parseList("8-11,24-27"), eth0.localCpus());
        assertEquals("/sys/devices/pci0000:00/0000:41:00.0", eth0.device().orElseThrow());
        assertEquals(List.of(120, 121, 122, 123), eth0.irqs().stream().map(NicInfo.Irq::irq).toList());
        NicInfo.Irq first = eth0.irqs().get(0);
        assertEquals("eth0-TxRx-0", first.actions());
        assertEquals(CpuSet.parseList("8-11,24-27"), first.affinity());
        assertEquals(CpuSet.of(8), first.effective().orElseThrow());
        assertEquals(CpuSet.of(8), first.handledOn(), "/proc/interrupts: CPU 8 took it");
        assertEquals(1120, first.count());
    }

    @Test
    void shouldReadTheRecordedVirtioNicsInterruptsFromMsiIrqsAndProcInterrupts() {
        // This development machine as recorded: a virtio NIC on PCI function 0000:00:03.0, no NUMA node.
        NicInfo eth0 = NicInfo.read(RecordedMachines.unpackMachine("vm-virtio-eth0", dir), "eth0");
        assertEquals("/sys/devices/pci0000:00/0000:00:03.0/virtio2", eth0.device().orElseThrow());
        assertTrue(eth0.node().isEmpty(), "numa_node -1");
        assertEquals(CpuSet.parseList("0-1"), eth0.localCpus());
        assertEquals(List.of(37, 38, 39), eth0.irqs().stream().map(NicInfo.Irq::irq).toList());
        assertEquals(List.of("virtio2-config", "virtio2-input.0", "virtio2-output.0"),
                eth0.irqs().stream().map(NicInfo.Irq::actions).toList());
        assertEquals(List.of(CpuSet.empty(), CpuSet.of(1), CpuSet.of(0)),
                eth0.irqs().stream().map(NicInfo.Irq::handledOn).toList());
        assertEquals(List.of(0L, 1468L, 1366L), eth0.irqs().stream().map(NicInfo.Irq::count).toList());
        assertEquals(CpuSet.parseList("0-1"), eth0.irqs().get(1).affinity());
    }

    @Test
    void shouldFindVectorsThatOnlyProcInterruptsNames() throws IOException {
        Path root = Fixtures.fourNodes(dir);
        // A driver whose vectors sysfs does not list: no msi_irqs, the handlers name the interface.
        try (Stream<Path> msi = Files.list(root.resolve("sys/devices/pci0000:00/0000:41:00.0/msi_irqs"))) {
            for (Path p : msi.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(root.resolve("sys/devices/pci0000:00/0000:41:00.0/msi_irqs"));
        assertEquals(List.of(120, 121, 122, 123), NicInfo.read(root, "eth0").irqs().stream().map(NicInfo.Irq::irq).toList());
    }

    @Test
    void shouldReportTheFirmwaresLocalityOfARecordedMachinesNics() {
        // hwloc's test for this machine forces PCI locality (HWLOC_PCI_LOCALITY) because its
        // firmware gives none: keel reports what the firmware says, numa_node -1 and all CPUs local.
        Path root = RecordedMachines.unpack("40intel64-2g2n4c+pcilocality", dir);
        NicInfo eth0 = NicInfo.read(root, "eth0");
        assertTrue(eth0.node().isEmpty());
        assertEquals(CpuSet.parseList("0-39"), eth0.localCpus());
        assertEquals(List.of(34), eth0.irqs().stream().map(NicInfo.Irq::irq).toList(), "the legacy line: no MSI");
        assertEquals(2, NicInfo.read(root, "ib0").node().orElseThrow());
    }

    @Test
    void shouldRefuseAnInterfaceThatIsNotThere() {
        Path root = Fixtures.fourNodes(dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NicInfo.read(root, "eth9"));
        assertEquals("no network interface 'eth9' (nothing at /sys/class/net/eth9)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NicInfo.read(root, "../../etc"));
    }

    @Test
    void shouldReadEveryInterfaceOfThisMachine() throws IOException {
        NicInfo lo = NicInfo.read("lo");
        assertTrue(lo.device().isEmpty(), "loopback is virtual");
        assertTrue(lo.irqs().isEmpty());
        try (Stream<Path> ifaces = Files.list(Path.of("/sys/class/net"))) {
            for (Path p : ifaces.toList()) {
                NicInfo nic = NicInfo.read(p.getFileName().toString());
                for (NicInfo.Irq irq : nic.irqs()) {
                    assertTrue(Files.isDirectory(Path.of("/proc/irq/" + irq.irq())), nic.name() + " IRQ " + irq.irq());
                }
            }
        }
    }
}
