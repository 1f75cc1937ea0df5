package dev.keel.cli;

import dev.keel.ffm.Mman;
import dev.keel.ffm.Seccomp;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxConstants;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NumaCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    /** The numa module's recorded trees (tests run in the module directory), shared rather than copied. */
    private static String fixture(String name) {
        Path root = Path.of("..", "numa", "src", "test", "resources", "fixtures", name);
        assertTrue(java.nio.file.Files.isDirectory(root), "fixture " + root.toAbsolutePath());
        return root.toString();
    }

    @Test
    void shouldBeListedInTheHelpOfKeel() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("  numa    NUMA nodes"), out.toString());
    }

    @Test
    void shouldPrintARecordedTwoNodeMachineLikeNumactlHardwarePlusPolicyAndThread() {
        assertEquals(0, run("numa", "--root", fixture("two-node")));
        assertEquals("""
                available: 2 nodes (0-1)
                node 0 cpus: 0 1 2 3
                node 0 size: 8192 MB
                node 0 free: 6144 MB
                node 1 cpus: 4 5 6 7
                node 1 size: 8192 MB
                node 1 free: 7168 MB
                node distances:
                node    0   1
                   0:  10  21
                   1:  21  10
                possible nodes: 0-1
                memoryless nodes: none
                mems allowed: 0-1 (/proc/self/status Mems_allowed_list)
                cpuset mems: 0-1 (/sys/fs/cgroup/app.slice/cpuset.mems.effective)
                allowed nodes: 0-1
                policy: unknown: not read from a recorded tree
                this thread: cpu 5 on node 1, allowed cpus 4-7
                """, out.toString());
    }

    @Test
    void shouldWriteJsonWithTheCpusetRestriction() {
        assertEquals(0, run("numa", "--json", "--root", fixture("four-node")));
        String json = out.toString();
        assertTrue(json.startsWith("{\"online\":[0,1,2,3],\"possible\":[0,1,2,3],\"nodes\":[{\"id\":0,\"cpus\":[0,1,2,3],"
                + "\"memTotalBytes\":4294967296,\"memFreeBytes\":3221225472,\"memoryless\":false,\"distances\":[10,16,32,32]}"), json);
        assertTrue(json.contains("\"cpusetMems\":{\"nodes\":[0,1],"
                + "\"source\":\"/sys/fs/cgroup/kubepods/pod1/cpuset.mems.effective\"}"), json);
        assertTrue(json.contains("\"allowed\":[0,1],\"policy\":null,\"problem\":\"not read from a recorded tree\",\"thread\":null}"), json);
    }

    @Test
    void shouldShowMemorylessAndCpulessNodesAndAMissingDistanceTable() {
        assertEquals(0, run("numa", "--root", fixture("memoryless")));
        assertTrue(out.toString().contains("node 1 size: 0 MB\n"), out.toString());
        assertTrue(out.toString().contains("node 2 cpus:\n"), out.toString());
        assertTrue(out.toString().contains("memoryless nodes: 1\n"), out.toString());
        out.reset();
        assertEquals(0, run("numa", "--root", fixture("no-numa")));
        assertTrue(out.toString().contains("node distances: not reported by this kernel\n"), out.toString());
    }

    @Test
    void shouldReportThisMachineWithItsPolicy() {
        assertEquals(0, run("numa"));
        assertTrue(out.toString().startsWith("available: "), out.toString());
        assertTrue(out.toString().contains("\npolicy: "), out.toString());
        assertFalse(out.toString().contains("policy: unknown"), out.toString());
        assertTrue(out.toString().contains("\nthis thread: cpu "), out.toString());
    }

    @Test
    void shouldVerifyThatPagesLandOnEachAllowedNode() {
        assertEquals(0, run("numa", "--verify", "--size", "4"), err.toString());
        long pages = (4L << 20) / Mman.pageSize();
        assertTrue(out.toString().contains("node 0: " + pages + " of " + pages + " pages on node 0: ok\n"), out.toString());
        out.reset();
        assertEquals(0, run("numa", "--verify", "--size", "1", "--json"), err.toString());
        assertTrue(out.toString().startsWith("{\"sizeBytes\":1048576,\"results\":[{\"node\":0,\"pages\":"), out.toString());
        assertTrue(out.toString().strip().endsWith("\"ok\":true}"), out.toString());
    }

    @Test
    void shouldSumNumaMapsPerNode() {
        assertEquals(0, run("numa", "--root", fixture("two-node"), "maps", "1234"));
        assertEquals("""
                numa_maps of pid 1234 (java): 6 mappings
                node          pages          MiB     huge MiB
                0               521         10.0          8.0
                1              1024          4.0          0.0
                total          1545         14.0          8.0
                """, out.toString());
        out.reset();
        assertEquals(0, run("numa", "--root", fixture("two-node"), "maps", "1234", "--json"));
        assertEquals("{\"pid\":1234,\"mappings\":6,\"nodes\":[{\"node\":0,\"pages\":521,\"bytes\":10506240,\"hugeBytes\":8388608},"
                + "{\"node\":1,\"pages\":1024,\"bytes\":4194304,\"hugeBytes\":0}],\"totalBytes\":14700544}\n", out.toString());
    }

    @Test
    void shouldSumTheNumaMapsOfALiveProcess() {
        assertEquals(0, run("numa", "maps", Long.toString(ProcessHandle.current().pid())));
        assertTrue(out.toString().contains("\n0 "), out.toString());
        assertTrue(out.toString().contains("\ntotal "), out.toString());
    }

    @Test
    void shouldRefuseBadArgumentsWithOneLineAndStatusTwo() {
        assertEquals(2, run("numa", "--frobnicate"));
        assertEquals("keel numa: unknown argument '--frobnicate' (see keel numa --help)\n", err.toString());
        err.reset();
        assertEquals(2, run("numa", "maps"));
        assertEquals("keel numa: maps needs a PID\n", err.toString());
        err.reset();
        assertEquals(2, run("numa", "maps", "abc"));
        assertEquals("keel numa: PID must be a positive number, not 'abc'\n", err.toString());
        err.reset();
        assertEquals(2, run("numa", "--verify", "--root", fixture("two-node")));
        assertTrue(err.toString().startsWith("keel numa: --verify allocates memory on this machine"), err.toString());
    }

    @Test
    void shouldFailWithTheReasonForAProcessThatDoesNotExist() {
        assertEquals(1, run("numa", "--root", fixture("two-node"), "maps", "99"));
        assertTrue(err.toString().startsWith("keel numa: no process 99 ("), err.toString());
    }

    @Test
    void shouldDescribeItsOptionsButNotTheHiddenRoot() {
        assertEquals(0, run("numa", "--help"));
        assertTrue(out.toString().contains("keel numa --verify"), out.toString());
        assertFalse(out.toString().contains("--root"), out.toString());
    }

    @Test
    void shouldReportTheTopologyAndSayTheContainerBlocksTheSyscallsUnderSeccomp() throws Exception {
        AtomicInteger plain = new AtomicInteger(-1);
        AtomicInteger verify = new AtomicInteger(-1);
        ByteArrayOutputStream verifyErr = new ByteArrayOutputStream();
        Thread filtered = new Thread(() -> {
            Seccomp.denyOnCurrentThread(Errno.EPERM, LinuxConstants.SYS_mbind, LinuxConstants.SYS_set_mempolicy,
                    LinuxConstants.SYS_get_mempolicy, LinuxConstants.SYS_move_pages);
            plain.set(run("numa"));
            verify.set(Keel.standard().run(new String[] {"numa", "--verify", "--size", "1"},
                    new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(verifyErr, true)));
        });
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            filtered.start();
            filtered.join();
        });
        assertEquals(0, plain.get(), err.toString());
        assertTrue(out.toString().startsWith("available: "), out.toString());
        assertTrue(out.toString().contains("\npolicy: unknown: the container blocks the NUMA syscalls (get_mempolicy: EPERM"),
                out.toString());
        assertEquals(1, verify.get());
        assertTrue(verifyErr.toString().startsWith("keel numa: the container blocks the NUMA syscalls (mbind: EPERM"),
                verifyErr.toString());
    }
}
