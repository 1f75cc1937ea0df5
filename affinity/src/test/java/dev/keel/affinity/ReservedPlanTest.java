package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import dev.keel.affinity.testing.Fixtures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plans that reserve their CPUs: on the recorded two-socket machine (CPU n and n+16 share a
 * core; socket 1 has 16 usable CPUs, socket 0 14, as isolated 7 and 23 are outside the start-up
 * mask) a second plan leaves the first plan's cores alone,
 * another JVM's reservation is planned around and named, explicit CPUs are taken as given.
 * Lock files go to a directory of the test's own.
 */
class ReservedPlanTest {
    @TempDir
    Path dir;

    @Test
    void shouldPlanTheSecondGroupAroundTheFirstsCpus() {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir.resolve("machine")));
        CpuReservations r = CpuReservations.in(dir.resolve("locks"));
        try (ReservedPlan first = ReservedPlan.plan(t, r.as("keel serve"), 2);
             ReservedPlan second = ReservedPlan.plan(t, r.as("keel echo"), 2)) {
            assertArrayEquals(new int[] {8, 9}, first.cpus(), "socket 1's first whole cores");
            assertEquals(CpuSet.of(8, 9), first.reserved());
            // Without 8 and 9 each socket has 14 free CPUs: the tie goes to node 0, CPU 0's core last.
            assertArrayEquals(new int[] {1, 2}, second.cpus(), "whole cores, none of 8 and 9 nor their siblings");
            assertEquals(List.of(8, 9), second.plannedAround().stream().map(CpuHolder::cpu).toList());
            assertEquals("keel serve", second.plannedAround().get(0).command());
            assertTrue(second.corePlan().orElseThrow().reason(0).startsWith("whole core 1"),
                    second.corePlan().orElseThrow().reason(0));
        }
        assertEquals(List.of(), r.holders(), "closing released every lease");
    }

    @Test
    void shouldTakeSmtSiblingsOfReservedCoresOnlyWhenNoWholeCoreIsLeft() {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir.resolve("machine")));
        CpuReservations r = CpuReservations.in(dir.resolve("locks"));
        try (CpuLease others = r.tryReserve(CpuSet.parseList("0-6,8-15")).orElseThrow();
             ReservedPlan plan = ReservedPlan.plan(t, r, 1)) {
            // Every first thread is held (7 and 23 are isolated, outside the start-up mask).
            assertEquals(1, plan.cpus().length);
            String reason = plan.corePlan().orElseThrow().reason(0);
            assertTrue(reason.contains("SMT sibling on core") && reason.contains("left-out CPU"), reason);
        }
    }

    @Test
    void shouldNameAnotherProcesssReservationWhenPlanningAroundIt() throws Exception {
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir.resolve("machine")));
        Path locks = dir.resolve("locks");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ReservationChild.class.getName(), locks.toString(), "8", "8")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
                assertTrue(line.startsWith("held") || line.startsWith("busy"), line);
            }
            try (ReservedPlan plan = ReservedPlan.plan(t, CpuReservations.in(locks), 1)) {
                assertArrayEquals(new int[] {9}, plan.cpus(), "CPU 8 is the other JVM's; socket 1 still has the most");
                CpuHolder holder = plan.plannedAround().get(0);
                assertEquals(child.pid(), holder.pid());
                assertTrue(holder.command().startsWith(ReservationChild.class.getName()), holder.command());
                assertEquals("CPU 8 by pid " + child.pid() + " \"" + holder.command() + "\"",
                        ReservedPlan.describe(plan.plannedAround()));
            }
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void shouldUseExplicitCpusAndReportThoseHeldElsewhere() {
        CpuReservations r = CpuReservations.in(dir.resolve("locks"));
        try (CpuLease other = r.as("keel proxy").reserve(3);
             ReservedPlan plan = ReservedPlan.explicit(r, new int[] {2, 3})) {
            assertArrayEquals(new int[] {2, 3}, plan.cpus());
            assertEquals(CpuSet.of(2), plan.reserved(), "the free one is reserved");
            assertEquals(List.of(3), plan.contested().stream().map(CpuHolder::cpu).toList());
            assertEquals("keel proxy", plan.contested().get(0).command());
            assertTrue(other.isHeld());
        }
    }

    @Test
    void shouldRefuseWhenTooFewCpusAreFreeNamingTheHolders() {
        CpuTopology t = CpuTopology.load(Fixtures.cpu0Offline(dir.resolve("machine")));
        CpuReservations r = CpuReservations.in(dir.resolve("locks"));
        try (CpuLease held = r.as("keel serve").tryReserve(CpuSet.of(1, 2)).orElseThrow()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReservedPlan.plan(t, r, 2));
            assertTrue(e.getMessage().contains("of which 1-2 are left out (reserved: CPU 1 by pid "
                    + ProcessHandle.current().pid() + " \"keel serve\", CPU 2 by pid"), e.getMessage());
            assertEquals(List.of(1, 2), r.holders().stream().map(CpuHolder::cpu).toList(), "nothing taken");
        }
    }
}
