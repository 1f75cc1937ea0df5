package dev.keel.io;

import dev.keel.affinity.CpuHolder;
import dev.keel.affinity.CpuReservations;
import dev.keel.affinity.CpuTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The default plan of a group reserves its loops' CPUs, a second group plans around them and
 * says whose they are, explicit CPUs win over a reservation and report it, and a group that
 * opts out neither reserves nor looks. Reservations live in a directory of the test's own.
 */
class EventLoopGroupReservationsTest {
    @TempDir
    Path locks;

    private static final ConnectionHandler ECHO = (connection, data) -> connection.write(data);

    @Test
    void shouldReserveTheDefaultPlanAndMakeTheNextGroupPlanAroundIt() {
        assumeTrue(CpuTopology.system().usable().size() >= 2, "needs two usable CPUs");
        CpuReservations r = CpuReservations.in(locks).as("first group");
        try (EventLoopGroup first = EventLoopGroup.builder().reservations(r).handler(ECHO).start()) {
            int cpu = first.cpus()[0];
            CpuHolder holder = r.holder(cpu).orElseThrow(() -> new AssertionError("CPU " + cpu + " not reserved"));
            assertEquals(ProcessHandle.current().pid(), holder.pid());
            assertEquals("first group", holder.command());
            assertEquals(List.of(), first.plannedAround());
            try (EventLoopGroup second = EventLoopGroup.builder().reservations(r.as("second group")).handler(ECHO).start()) {
                assertNotEquals(cpu, second.cpus()[0], "the second group plans around the first's CPU");
                assertEquals(List.of(cpu), second.plannedAround().stream().map(CpuHolder::cpu).toList());
                assertEquals("first group", second.plannedAround().get(0).command());
                assertEquals("second group", r.holder(second.cpus()[0]).orElseThrow().command());
            }
        }
        assertEquals(List.of(), r.holders(), "closing the groups released their CPUs");
    }

    @Test
    void shouldPinExplicitCpusEvenWhenReservedAndSayByWhom() {
        CpuReservations r = CpuReservations.in(locks);
        int cpu = CpuTopology.system().usable().first();
        try (var held = r.as("someone else").reserve(cpu);
             EventLoopGroup group = EventLoopGroup.builder().reservations(r).cpus(cpu).handler(ECHO).start()) {
            assertEquals(cpu, group.cpus()[0], "the CPU asked for wins");
            assertEquals(List.of(cpu), group.contested().stream().map(CpuHolder::cpu).toList());
            assertEquals("someone else", group.contested().get(0).command());
            assertTrue(held.isHeld(), "the other reservation is left alone");
        }
    }

    @Test
    void shouldNeitherReserveNorPlanAroundWhenToldNotTo() {
        CpuReservations r = CpuReservations.in(locks);
        int planned = dev.keel.affinity.CorePlan.forLoops(1).cpu(0);
        try (var held = r.reserve(planned);
             EventLoopGroup group = EventLoopGroup.builder().noReservations().handler(ECHO).start()) {
            assertEquals(planned, group.cpus()[0], "the plan ignores reservations");
            assertEquals(List.of(planned), r.holders().stream().map(CpuHolder::cpu).toList(), "and takes none");
        }
    }

    @Test
    void shouldRunUnpinnedAndSayWhyWhenEveryUsableCpuIsReservedElsewhere() {
        CpuReservations r = CpuReservations.in(locks);
        CpuTopology t = CpuTopology.system();
        try (var all = r.as("the other keel").tryReserve(t.usable()).orElseThrow();
             EventLoopGroup group = EventLoopGroup.builder().reservations(r).handler(ECHO).start()) {
            assertEquals(-1, group.cpus()[0]);
            String why = group.unpinnedBecause().orElseThrow();
            assertTrue(why.contains("reserved: CPU " + t.usable().first() + " by pid " + ProcessHandle.current().pid()
                    + " \"the other keel\""), why);
        }
    }
}
