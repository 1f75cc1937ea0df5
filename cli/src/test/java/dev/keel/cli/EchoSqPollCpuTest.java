package dev.keel.cli;

import dev.keel.affinity.Affinity;
import dev.keel.ffm.IoUring;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code keel echo --sqpoll} puts each loop's SQPOLL kernel thread on that loop's CPU, as its
 * help says: the iou-sqp threads of the process are read back from /proc.
 */
class EchoSqPollCpuTest {
    @Test
    @Timeout(60)
    void shouldPinEachLoopsSqPollThreadToTheLoopsCpu() throws Exception {
        Assumptions.assumeTrue(IoUring.support().available(), () -> "io_uring unavailable: " + IoUring.support().reason());
        int[] mine = Affinity.currentMask().toArray();
        Assumptions.assumeTrue(mine.length >= 2, "needs two CPUs");
        String first = Integer.toString(mine[0]);
        String second = Integer.toString(mine[1]);
        try (KeelProcess keel = KeelProcess.start("echo", "--port", "0", "--loops", "2", "--cpus", first + "," + second,
                "--transport", "io_uring", "--sqpoll", "50")) {
            List<String> cpus = sqPollThreadCpus(keel.pid());
            cpus.sort(null);
            assertEquals(List.of(first, second), cpus, "Cpus_allowed_list of the iou-sqp threads");
        }
    }

    /** Cpus_allowed_list of each iou-sqp thread of process {@code pid}. */
    private static List<String> sqPollThreadCpus(long pid) throws IOException {
        List<String> cpus = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                List<String> status;
                try {
                    status = Files.readAllLines(task.resolve("status"));
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                if (status.stream().anyMatch(l -> l.startsWith("Name:") && l.contains("iou-sqp"))) {
                    status.stream().filter(l -> l.startsWith("Cpus_allowed_list:"))
                            .forEach(l -> cpus.add(l.substring(l.indexOf(':') + 1).trim()));
                }
            }
        }
        return cpus;
    }
}
