package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

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
