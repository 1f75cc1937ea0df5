package dev.keel.affinity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import dev.keel.affinity.testing.Fixtures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuReservationsTest {
    @TempDir
    Path dir;

    @Test
    void shouldNotHandAHeldCpuToAnotherReservationUntilItIsReleased() {
        CpuReservations r = CpuReservations.in(dir);
        try (CpuLease lease = r.tryReserve(3).orElseThrow()) {
            assertEquals(CpuSet.of(3), lease.cpus());
            assertTrue(r.tryReserve(3).isEmpty(), "the same process cannot take it twice");
            assertTrue(CpuReservations.in(dir).tryReserve(3).isEmpty(), "nor through another instance");
            CpuHolder h = r.holder(3).orElseThrow();
            assertEquals(ProcessHandle.current().pid(), h.pid());
            assertEquals(Affinity.currentTid(), h.tid());
            assertEquals(Thread.currentThread().getName(), h.thread());
            assertTrue(h.isThisProcess());
        }
        assertTrue(r.holder(3).isEmpty(), "released on close");
        assertTrue(Files.exists(r.lockFile(3)), "the lock file is never deleted");
        try (CpuLease again = r.tryReserve(3).orElseThrow()) {
            assertTrue(again.isHeld());
        }
    }

    @Test
    void shouldExcludeAnotherThreadOfThisProcess() throws Exception {
        CpuReservations r = CpuReservations.in(dir);
        try (CpuLease lease = r.reserve(0)) {
            assertEquals(0, lease.cpu());
            AtomicReference<Optional<CpuLease>> other = new AtomicReference<>();
            Thread t = Thread.ofPlatform().name("contender").start(() -> other.set(r.tryReserve(0)));
            assertTrue(t.join(Duration.ofSeconds(10)));
            assertTrue(other.get().isEmpty(), "a CPU held by one thread is not handed to another");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> r.reserve(0));
            assertTrue(e.getMessage().startsWith("cannot reserve CPU 0: CPU 0 reserved by pid "
                    + ProcessHandle.current().pid() + " (thread '" + Thread.currentThread().getName() + "'"), e.getMessage());
        }
    }

    @Test
    void shouldReserveAWholeCoreAllOrNothing() {
        CpuReservations r = CpuReservations.in(dir);
        CpuTopology t = CpuTopology.load(Fixtures.twoSocketSmt(dir.resolve("machine")));
        try (CpuLease sibling = r.reserve(16)) {
            assertEquals(CpuSet.of(16), sibling.cpus());
            assertTrue(r.tryReserveCore(t, 0).isEmpty(), "core 0 = CPUs 0 and 16, and 16 is held");
            assertTrue(r.holder(0).isEmpty(), "CPU 0 was given back");
        }
        try (CpuLease core = r.tryReserveCore(t, 16).orElseThrow()) {
            assertEquals(CpuSet.of(0, 16), core.cpus());
            assertEquals(List.of(0, 16), r.holders().stream().map(CpuHolder::cpu).toList());
            assertEquals(CpuSet.of(0, 16), r.reserved());
        }
        assertEquals(List.of(), r.holders());
    }

    @Test
    void shouldExcludeAnotherJvmAndRecoverWhenItIsKilledWithSigkill() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            CpuReservations r = CpuReservations.in(dir);
            CpuLease parentHolds = r.reserve(1);
            String java = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), ReservationChild.class.getName(),
                    dir.toString(), "0", "1").redirectErrorStream(true).start();
            try {
                List<String> lines = new ArrayList<>();
                BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
                    lines.add(line);
                }
                assertEquals(List.of("held 0", "busy 1"), lines, "the child took CPU 0 and was refused the parent's CPU 1");

                assertTrue(r.tryReserve(0).isEmpty(), "the child's CPU is refused here");
                CpuHolder holder = r.holder(0).orElseThrow();
                assertEquals(child.pid(), holder.pid());
                assertFalse(holder.isThisProcess());
                assertEquals(List.of(0, 1), r.holders().stream().map(CpuHolder::cpu).toList());

                child.destroyForcibly();   // SIGKILL: no shutdown hook, no close, no cleanup
                assertTrue(child.waitFor(20, TimeUnit.SECONDS));
                assertEquals(137, child.exitValue(), "killed by signal 9");

                try (CpuLease recovered = r.tryReserve(0).orElseThrow(() -> new AssertionError("CPU 0 not freed by kill -9"))) {
                    assertTrue(recovered.isHeld());
                    assertEquals(ProcessHandle.current().pid(), r.holder(0).orElseThrow().pid(), "new holder recorded");
                }
            } finally {
                child.destroyForcibly();
                child.waitFor(20, TimeUnit.SECONDS);
                parentHolds.close();
            }
        });
    }
}
