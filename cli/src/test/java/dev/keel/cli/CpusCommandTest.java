package dev.keel.cli;

import dev.keel.affinity.CpuSet;
import dev.keel.affinity.CpuTopology;
import dev.keel.affinity.testing.Fixtures;
import dev.keel.affinity.testing.RecordedMachines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import static dev.keel.cli.MiniJson.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpusCommandTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private Object json(String... args) {
        assertEquals(0, run(args), err.toString());
        return MiniJson.parse(out.toString());
    }

    @Test
    void shouldBeListedInTheHelp() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("  cpus    CPU topology"), out.toString());
        out.reset();
        assertEquals(0, run("cpus", "--help"));
        assertTrue(out.toString().startsWith("usage: keel cpus [--json] [--plan N] [--nic IFACE [--irqs apart|beside] [--apply]]"));
        assertTrue(!out.toString().contains("--root"), "--root is for fixtures and stays out of the help");
    }

    @Test
    void shouldPrintOneRowPerCpuWithWhyItIsNotUsableOnARecordedMachine() {
        Path root = Fixtures.twoSocketSmt(dir);
        assertEquals(0, run("cpus", "--root", root.toString()), err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals("CPU  CORE  SOCKET  NODE  SMT  L2     L3          ISOLATED  USABLE", lines.get(0));
        assertEquals("7    7     0       0     23   7,23   0-7,16-23   isolcpus  no: not in start-up affinity"
                + " 0-6,8-22,24-31 (isolated: start with taskset -c to use it)", lines.get(8));
        assertEquals("24   8     1       1     8    8,24   8-15,24-31  no        yes", lines.get(25));
        String text = out.toString();
        assertTrue(text.contains("usable CPUs:       0-6,8-22,24-31 (30 of 32 online)"), text);
        assertTrue(text.contains("node 1:            CPUs 8-15,24-31, memory, distances 0:21 1:10"), text);
        assertTrue(text.contains("plan for 15 loops (one per usable physical core"), text);
        assertTrue(text.contains("  loop 0 -> CPU 8: whole core 8 (sibling 24 left idle); node 1 (most usable CPUs)"), text);
    }

    @Test
    void shouldWriteTheDocumentedJsonForAContainer() {
        Object j = json("cpus", "--json", "--root", Fixtures.containerV2(dir).toString());
        assertEquals(1L, at(j, "schema"));
        assertEquals("2-3", at(j, "usable"));
        assertEquals(2L, at(j, "usableCount"));
        assertEquals("0-15", at(j, "online"));
        assertEquals("v2", at(j, "cgroup", "version"));
        assertEquals("2-3", at(j, "cgroup", "cpus"));
        assertEquals(1.5, at(j, "cgroup", "quotaCpus"));
        assertEquals(150000L, at(j, "cgroup", "quotaMicros"));
        assertEquals(100000L, at(j, "cgroup", "periodMicros"));
        assertEquals("/sys/fs/cgroup/cpu.max", at(j, "cgroup", "quotaFile"));
        assertEquals(16, ((List<?>) at(j, "cpus")).size());
        assertEquals(false, at(j, "cpus", 0, "usable"));
        assertEquals("outside cgroup cpuset 2-3", at(j, "cpus", 0, "whyNotUsable"));
        assertEquals(List.of(10L), at(j, "cpus", 2, "smtSiblings"));
        assertEquals("2,10", at(j, "cpus", 2, "l2"));
        assertNull(at(j, "cpus", 2, "whyNotUsable"));
        assertEquals(1L, at(j, "plan", "loops"), "two usable cores, but a quota of 1.5 CPUs: one loop");
        assertEquals("the cgroup's CPU quota is 1.50 CPUs (150000/100000 us, /sys/fs/cgroup/cpu.max), so 1 loop"
                + " rather than 2 (one per usable physical core)", at(j, "plan", "sizeReason"));
        assertEquals(2L, at(j, "plan", "picks", 0, "cpu"));
        assertTrue(((String) at(j, "plan", "picks", 0, "reason")).startsWith("whole core 2"));
        assertNull(at(j, "reservations"), "a recorded machine's reservations are not on this one");
        assertNull(at(j, "nic"), "no --nic, no nic object");
    }

    @Test
    void shouldReportTheNicsNodeAndIrqsAndPlanNearIt() {
        Path root = Fixtures.fourNodes(dir);
        assertEquals(0, run("cpus", "--root", root.toString(), "--nic", "eth0", "--plan", "2"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("NIC eth0: node 2, local CPUs 8-11,24-27, device /sys/devices/pci0000:00/0000:41:00.0"), text);
        assertTrue(text.contains("  120  eth0-TxRx-0  8-11,24-27  8"), text);
        out.reset();
        Object j = json("cpus", "--json", "--root", root.toString(), "--nic", "eth0", "--plan", "10");
        assertEquals(2L, at(j, "nic", "node"));
        assertEquals(4, ((List<?>) at(j, "nic", "irqs")).size());
        assertEquals("9", at(j, "nic", "irqs", 1, "affinity"));
        assertEquals(false, at(j, "plan", "default"));
        assertEquals(8L, at(j, "plan", "picks", 8, "cpu"), "after the isolated CPUs, the NIC's node");
        assertEquals(true, at(j, "cpus", 12, "isolated"));
        assertEquals(true, at(j, "cpus", 12, "nohzFull"));
    }

    @Test
    void shouldProposeAnIrqPlacementApartFromTheLoopsAsCommands() {
        Path root = Fixtures.fourNodes(dir);
        // Two loops near the NIC: isolated CPUs first (12, 13 on node 3), so the NIC's node 2 is free for its IRQs.
        assertEquals(0, run("cpus", "--root", root.toString(), "--nic", "eth0", "--plan", "2"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("  IRQ  ACTIONS      AFFINITY    EFFECTIVE  HANDLED-ON  COUNT  PROPOSED"), text);
        assertTrue(text.contains("  120  eth0-TxRx-0  8-11,24-27  8          8           1120   8"), text);
        assertTrue(text.contains("irqbalance: running (pid 812): it moves IRQs by itself every 10 s and would undo a placement"),
                text);
        assertTrue(text.contains("IRQ placement apart from the loops on CPUs 12-13: near the NIC, on cores without a loop:"),
                text);
        assertTrue(text.contains("  systemctl stop irqbalance    # or IRQBALANCE_BANNED_CPULIST=8-11 in its environment file"),
                text);
        assertTrue(text.contains("  echo 8 > /proc/irq/120/smp_affinity_list    # eth0-TxRx-0: 8-11,24-27 -> 8"), text);
        assertTrue(text.contains("(keel cpus --nic eth0 --apply writes these, as root; nothing was changed)"), text);
        out.reset();
        Object j = json("cpus", "--json", "--root", root.toString(), "--nic", "eth0", "--plan", "2", "--irqs", "beside");
        assertEquals("beside", at(j, "nic", "placement", "mode"));
        assertEquals(812L, at(j, "nic", "irqbalancePid"));
        assertEquals("12", at(j, "nic", "irqs", 0, "proposed"));
        assertEquals("8", at(j, "nic", "irqs", 0, "handledOn"));
        assertEquals(1120L, at(j, "nic", "irqs", 0, "count"));
        assertEquals("echo 12 > /proc/irq/120/smp_affinity_list", at(j, "nic", "placement", "commands", 0));
        assertEquals(List.of(), at(j, "nic", "placement", "applied"), "nothing written without --apply");
        assertEquals("8-11,24-27\n", read(root, "proc/irq/120/smp_affinity_list"));
    }

    @Test
    void shouldWriteTheIrqPlacementOnlyWithApplyAndSayWhatChanged() {
        Path root = Fixtures.fourNodes(dir);
        assertEquals(0, run("cpus", "--root", root.toString(), "--nic", "eth0", "--plan", "2", "--apply"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("changed: IRQ 120 (eth0-TxRx-0) smp_affinity_list 8-11,24-27 -> 8"), text);
        assertTrue(text.contains("changed: IRQ 123 (eth0-TxRx-3) smp_affinity_list 0-31 -> 11"), text);
        assertTrue(!text.contains("nothing was changed"), text);
        assertEquals("8\n", read(root, "proc/irq/120/smp_affinity_list"));
        assertEquals("11\n", read(root, "proc/irq/123/smp_affinity_list"));
        out.reset();
        assertEquals(0, run("cpus", "--root", root.toString(), "--nic", "eth0", "--plan", "2", "--apply"), err.toString());
        assertTrue(out.toString().contains(": already so\nnothing to change\n"), out.toString());
        err.reset();
        assertEquals(2, run("cpus", "--root", root.toString(), "--apply"));
        assertEquals("keel cpus: --apply writes an IRQ placement and needs --nic IFACE\n", err.toString());
        err.reset();
        assertEquals(2, run("cpus", "--root", root.toString(), "--nic", "eth0", "--irqs", "near"));
        assertEquals("keel cpus: --irqs takes apart or beside, not 'near'\n", err.toString());
    }

    @Test
    void shouldReportTheRecordedVirtioNicOfThisMachine() {
        Path root = RecordedMachines.unpackMachine("vm-virtio-eth0", dir);
        assertEquals(0, run("cpus", "--root", root.toString(), "--nic", "eth0", "--plan", "1"), err.toString());
        String text = out.toString();
        assertTrue(text.contains("NIC eth0: node none (numa_node -1), local CPUs 0-1, device"
                + " /sys/devices/pci0000:00/0000:00:03.0/virtio2"), text);
        assertTrue(text.contains("  38   virtio2-input.0   0-1       1          1           1468   "), text);
        assertTrue(text.contains("irqbalance: not running"), text);
    }

    private static String read(Path root, String file) {
        try {
            return java.nio.file.Files.readString(root.resolve(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void shouldShowKindsOnAHybridMachineAndMoreThan256Cpus() {
        assertEquals(0, run("cpus", "--root", Fixtures.hybrid(dir).toString()), err.toString());
        assertTrue(out.toString().lines().findFirst().orElseThrow().contains("KIND"));
        assertTrue(out.toString().contains("efficiency"), out.toString());
        out.reset();
        Object j = json("cpus", "--json", "--root", Fixtures.sharedLarge().toString(), "--plan", "200");
        assertEquals(384, ((List<?>) at(j, "cpus")).size());
        assertEquals(300L, at(j, "usableCount"));
        assertEquals(200, ((List<?>) at(j, "plan", "picks")).size());
    }

    @Test
    void shouldRefuseBadArgumentsWithOneLineAndStatusTwo() {
        String root = Fixtures.cpu0Offline(dir).toString();
        String[][] cases = {
                {"cpus", "--plan", "0"},
                {"cpus", "--plan", "many"},
                {"cpus", "--plan"},
                {"cpus", "--frobnicate"},
                {"cpus", "--root", dir.resolve("missing").toString()},
                {"cpus", "--root", root, "--plan", "4"},
                {"cpus", "--root", root, "--nic", "eth9"},
        };
        String[] expected = {
                "keel cpus: --plan takes a number of loops >= 1, not '0'",
                "keel cpus: --plan takes a number of loops >= 1, not 'many'",
                "keel cpus: --plan needs a value",
                "keel cpus: unknown option '--frobnicate' (see keel cpus --help)",
                "keel cpus: sysfs root " + dir.resolve("missing") + " does not exist or is not a directory",
                "keel cpus: --plan 4: cannot plan 4 loops on their own CPUs: this process may use 3 (1-3)",
                "keel cpus: no network interface 'eth9' (nothing at /sys/class/net/eth9)",
        };
        for (int i = 0; i < cases.length; i++) {
            err.reset();
            assertEquals(2, run(cases[i]), String.join(" ", cases[i]));
            assertEquals(expected[i] + "\n", err.toString());
        }
    }

    @Test
    void shouldDescribeThisMachine() {
        CpuTopology t = CpuTopology.system();
        assertEquals(0, run("cpus"), err.toString());
        assertEquals(t.cpus().size() + 1, out.toString().lines().takeWhile(l -> !l.isEmpty()).count(),
                "a header and one row per CPU");
        out.reset();
        Object j = json("cpus", "--json", "--nic", "lo");
        assertEquals((long) Runtime.getRuntime().availableProcessors(), at(j, "availableProcessors"));
        assertEquals(t.usable(), CpuSet.parseList((String) at(j, "usable")));
        assertEquals("/", at(j, "root"));
        assertNull(at(j, "nic", "device"), "loopback has no device");
        assertEquals(List.of(), at(j, "nic", "irqs"));
    }
}
