package dev.keel.cli;

import dev.keel.affinity.CpuReservations;
import dev.keel.affinity.CpuTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.keel.cli.MiniJson.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two keel servers on one machine: the first reserves the CPU of its loop, the second plans
 * around it and says so on its ready line, a third told --cpus that CPU takes it with a warning
 * naming the first, and {@code keel cpus} lists who holds what. The lock directory is the
 * build's own (KEEL_CPU_LOCKDIR, set for the tests and inherited by the servers they start).
 */
class ReservationsTest {
    private static final Pattern ON_CPU = Pattern.compile("\\(1 loop, on CPU (\\d+)");

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldMakeASecondServerPlanAroundTheFirstsCpuAndSaySo() throws Exception {
        int usable = CpuTopology.system().usable().size();
        assumeTrue(usable >= 2, "needs two usable CPUs");
        assumeTrue(CpuReservations.sharedDirectory().toString().contains("target"),
                "the lock directory is the build's (KEEL_CPU_LOCKDIR): " + CpuReservations.sharedDirectory());
        try (KeelProcess first = KeelProcess.start("echo", "--port", "0")) {
            int cpu = cpuOf(first.readyLine);
            assertTrue(first.readyLine.endsWith("epoll)") && !first.readyLine.contains("planned around"), first.readyLine);
            try (KeelProcess second = KeelProcess.start("echo", "--port", "0")) {
                assertNotEquals(cpu, cpuOf(second.readyLine), second.readyLine);
                assertTrue(second.readyLine.contains(", planned around CPU " + cpu + " of pid " + first.pid()
                        + " \"keel echo --port 0\", epoll)"), second.readyLine);

                String cpus = runCpus();
                assertTrue(cpus.contains("reservations:      2 CPUs held by keel processes ("), cpus);
                assertTrue(Pattern.compile("(?m)^  " + cpu + " +" + first.pid() + " +keel echo --port 0 +").matcher(cpus).find(),
                        cpus);
                Object j = MiniJson.parse(runCpus("--json"));
                List<?> held = (List<?>) at(j, "reservations", "held");
                assertEquals(2, held.size());
                assertTrue(held.stream().anyMatch(h -> at(h, "pid").equals(first.pid()) && at(h, "cpu").equals((long) cpu)
                        && at(h, "command").equals("keel echo --port 0")), held.toString());
                if (usable == 2) {
                    assertEquals(0L, at(j, "plan", "loops"), "no CPU left for a plan");
                    assertTrue(((String) at(j, "plan", "none")).contains("are left out (reserved: "), j.toString());
                } else {
                    List<?> picks = (List<?>) at(j, "plan", "picks");
                    assertTrue(picks.stream().noneMatch(p -> at(p, "cpu").equals((long) cpu)), "the plan avoids " + cpu);
                }
            }
            try (KeelProcess third = KeelProcess.start("echo", "--port", "0", "--cpus", Integer.toString(cpu))) {
                assertEquals(cpu, cpuOf(third.readyLine), "--cpus wins");
                assertTrue(third.readyLine.contains("keel echo: warning: CPU " + cpu + " is reserved by pid " + first.pid()
                        + " \"keel echo --port 0\" since "), third.readyLine);
                assertTrue(third.readyLine.contains("; --cpus puts a loop there anyway"), third.readyLine);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldSizeLoopsAutoLikeTheDefaultPlanAndSayWhy() throws Exception {
        dev.keel.affinity.CorePlan.Size size = dev.keel.affinity.CorePlan.defaultSize(CpuTopology.system(),
                dev.keel.affinity.CpuSet.of(CpuReservations.shared().heldByOthers().stream()
                        .mapToInt(dev.keel.affinity.CpuHolder::cpu).toArray()));
        try (KeelProcess keel = KeelProcess.start("echo", "--port", "0", "--loops", "auto")) {
            assertTrue(keel.readyLine.contains("keel echo: --loops auto: " + size.loops()
                    + (size.loops() == 1 ? " loop: " : " loops: ") + size.reason()), keel.readyLine);
            assertTrue(keel.readyLine.contains("(" + size.loops() + (size.loops() == 1 ? " loop, " : " loops, ")),
                    keel.readyLine);
        }
    }

    private static int cpuOf(String readyLine) {
        Matcher m = ON_CPU.matcher(readyLine);
        assertTrue(m.find(), readyLine);
        return Integer.parseInt(m.group(1));
    }

    private static String runCpus(String... more) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = new String[more.length + 1];
        args[0] = "cpus";
        System.arraycopy(more, 0, args, 1, more.length);
        assertEquals(0, Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true)), err.toString());
        return out.toString();
    }
}
