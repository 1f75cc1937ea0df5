package dev.keel.cli;

import dev.keel.affinity.testing.RecordedMachines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.keel.cli.MiniJson.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code keel tune} on two machines built from a recording of this one
 * (scripts/tune-fixtures.sh): one left at distribution defaults, one tuned. It reads without
 * writing, fails --strict only where something is to change, and --apply writes (into the
 * recorded tree, never this machine's /proc) exactly the changes it can make, then says so.
 * Run for real on this machine too.
 */
class TuneCommandTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        out.reset();
        err.reset();
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private Path machine(String name) {
        return RecordedMachines.unpackResource(TuneCommandTest.class, "/machines/" + name + ".tar.gz", dir.resolve(name));
    }

    private static Object item(Object json, String id) {
        List<?> items = (List<?>) at(json, "items");
        return items.stream().filter(i -> at(i, "id").equals(id)).findFirst().orElseThrow(() -> new AssertionError(id));
    }

    @Test
    void shouldListWhatIsToChangeOnAnUntunedMachineWithoutChangingIt() {
        Path root = machine("metal-untuned");
        Map<String, String> before = snapshot(root);
        assertEquals(0, run("tune", "--root", root.toString()), err.toString());
        String text = out.toString();
        assertTrue(text.startsWith("keel tune: 14 items: 0 as wanted, 12 to change, 2 for information (recorded tree "),
                text);
        assertTrue(text.contains("FIX   swappiness (vm.swappiness)\n      set:   60\n      wants: 10 or less\n"), text);
        assertTrue(text.contains("      run:   sysctl -w vm.swappiness=10\n"), text);
        assertTrue(text.contains("      set:   driver intel_idle; enabled: C1E (10 us) on 2 CPUs, C6 (133 us) on 2 CPUs"), text);
        assertTrue(text.contains("      set:   running (pid 812), no CPU banned"), text);
        assertTrue(text.contains("isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1"), text);
        assertTrue(text.contains("Nothing was changed; keel tune --apply (as root)"), text);
        assertEquals(before, snapshot(root), "a report writes nothing");
        assertEquals(1, run("tune", "--root", root.toString(), "--strict"), "--strict fails while an item is to change");

        assertEquals(0, run("tune", "--root", root.toString(), "--json", "--connections", "100000"), err.toString());
        Object j = MiniJson.parse(out.toString());
        assertEquals(1L, at(j, "schema"));
        assertEquals(12L, at(j, "summary", "fail"));
        assertEquals(0L, at(j, "summary", "ok"));
        assertEquals("fail", at(item(j, "cpu.governor"), "status"));
        assertEquals("powersave (2 policies)", at(item(j, "cpu.governor"), "current"));
        assertEquals(List.of("/sys/devices/system/cpu/cpufreq/policy0/scaling_governor",
                "/sys/devices/system/cpu/cpufreq/policy1/scaling_governor"), at(item(j, "cpu.governor"), "applies"));
        assertEquals("info", at(item(j, "io_uring"), "status"));
        assertEquals("kernel.io_uring_disabled 2 (nobody may)", at(item(j, "io_uring"), "current"));
        assertEquals("at least 100064 (100000 connections + 64)", at(item(j, "rlimit.nofile"), "wanted"));
        assertEquals(List.of(), at(j, "applied"));
        assertEquals(before, snapshot(root));
    }

    @Test
    void shouldPassStrictOnATunedMachine() {
        Path root = machine("metal-tuned");
        assertEquals(0, run("tune", "--root", root.toString(), "--strict"), out.toString());
        assertTrue(out.toString().startsWith("keel tune: 14 items: 13 as wanted, 0 to change, 1 for information"),
                out.toString());
        assertTrue(out.toString().contains("OK    isolated CPUs for the loops (cpu.isolation)\n"
                + "      set:   isolated 1, nohz_full 1, rcu_nocbs 1\n"), out.toString());
        assertTrue(!out.toString().contains("Nothing was changed"), "nothing to change, nothing to say about it");
    }

    @Test
    void shouldApplyWhatKeelCanChangeAndPrintEachChange() {
        Path root = machine("metal-untuned");
        Map<String, String> before = snapshot(root);
        assertEquals(1, run("tune", "--root", root.toString(), "--apply", "--strict"), out.toString());
        String text = out.toString();
        assertTrue(text.startsWith("changed /sys/devices/system/cpu/cpufreq/policy0/scaling_governor: powersave -> performance\n"),
                text);
        assertTrue(text.contains("changed /proc/sys/vm/swappiness: 60 -> 10\n"), text);
        assertTrue(text.contains("changed /sys/devices/system/cpu/cpu1/cpuidle/state3/disable: 0 -> 1\n"), text);
        assertTrue(text.contains("changed /sys/devices/system/clocksource/clocksource0/current_clocksource: hpet -> tsc\n"), text);
        assertTrue(text.contains("keel tune: 14 items: 9 as wanted, 3 to change, 2 for information"),
                "left: isolation (boot), irqbalance (a service), RLIMIT_NOFILE (other processes): " + text);
        Map<String, String> after = snapshot(root);
        List<String> written = new ArrayList<>();
        after.forEach((file, text2) -> {
            if (!text2.equals(before.get(file))) {
                written.add(file);
            }
        });
        assertEquals(18, written.size(), "one write per change printed: " + written);
        assertEquals(18, text.lines().filter(l -> l.startsWith("changed ")).count());
        assertEquals("10\n", after.get("proc/sys/vm/swappiness"));

        assertEquals(0, run("tune", "--root", root.toString(), "--apply", "--json"), out.toString());
        Object j = MiniJson.parse(out.toString());
        assertEquals(List.of(), at(j, "applied"), "a second run finds nothing keel can change");
    }

    @Test
    void shouldRefuseToApplyUnlessRootWithoutReadingOrWritingAnything() throws Exception {
        assumeTrue(Superuser.effectiveUid() == 0, "needs root to start a process as another user");
        Path setpriv = Path.of("/usr/bin/setpriv");
        assumeTrue(Files.isExecutable(setpriv), "needs setpriv(1)");
        Path root = machine("metal-untuned");
        Map<String, String> before = snapshot(root);
        // The child sees only keel's own classes: this build's target directories, or its module
        // jars there when the reactor ran to `package` (make test runs `verify`); readable by anyone,
        // unlike the local Maven repository under root's home.
        String cp = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(p -> p.contains("/target/classes") || p.matches(".*/target/[^/]+\\.jar"))
                .reduce((a, b) -> a + java.io.File.pathSeparator + b).orElseThrow();
        assumeTrue(Stream.of(cp.split(java.io.File.pathSeparator)).allMatch(TuneCommandTest::readableByAnyone),
                "the build's directories must be readable by another user: " + cp);
        String java = ProcessHandle.current().info().command().orElseThrow();
        for (List<String> args : List.of(List.of("tune", "--apply", "--root", root.toString()),
                List.of("cpus", "--nic", "eth0", "--apply", "--root", root.toString()))) {
            List<String> command = new ArrayList<>(List.of(setpriv.toString(), "--reuid=65534", "--regid=65534",
                    "--clear-groups", java, "--enable-native-access=ALL-UNNAMED", "-cp", cp, Keel.class.getName()));
            command.addAll(args);
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exits by itself");
            String output = new String(p.getInputStream().readAllBytes());
            assertEquals(1, p.exitValue(), output);
            assertTrue(output.startsWith("keel " + args.get(0) + ": --apply writes "), output);
            assertTrue(output.contains("needs root (this process runs as uid 65534); nothing was changed"), output);
        }
        assertEquals(before, snapshot(root));
    }

    /** Whether a user with no rights of its own can reach {@code path}: it and every directory above it. */
    private static boolean readableByAnyone(String path) {
        try {
            for (Path p = Path.of(path).toAbsolutePath(); p != null; p = p.getParent()) {
                var perms = Files.getPosixFilePermissions(p);
                if (!perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ) && !Files.isDirectory(p)
                        || Files.isDirectory(p) && !perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void shouldRunForRealOnThisMachine() throws IOException {
        assertEquals(0, run("tune"), err.toString());
        assertTrue(out.toString().startsWith("keel tune: 14 items: "), out.toString());
        assertEquals(0, run("tune", "--json"), err.toString());
        Object j = MiniJson.parse(out.toString());
        assertEquals("/", at(j, "root"));
        String swappiness = Files.readAllLines(Path.of("/proc/sys/vm/swappiness")).get(0).strip();
        assertEquals(swappiness, at(item(j, "vm.swappiness"), "current"), "sysctls are read whole");
        String nofile = (String) at(item(j, "rlimit.nofile"), "current");
        assertTrue(nofile.matches("soft \\d+, hard \\d+"), nofile);
        long fails = (Long) at(j, "summary", "fail");
        assertEquals(fails > 0 ? 1 : 0, run("tune", "--strict"));
        assertEquals(List.of(), at(j, "applied"), "nothing applied without --apply");
    }

    @Test
    void shouldBeListedInTheHelpAndRefuseBadArguments() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("  tune    latency checklist of this machine"), out.toString());
        assertEquals(0, run("tune", "--help"));
        assertTrue(out.toString().startsWith("usage: keel tune [--json] [--strict] [--apply] [--connections N]\n"));
        assertEquals(2, run("tune", "--connections", "0"));
        assertEquals("keel tune: --connections must be between 1 and 100000000, not 0\n", err.toString());
        assertEquals(2, run("tune", "--fast"));
        assertEquals("keel tune: unknown option --fast\n", err.toString());
        assertEquals(2, run("tune", "--root", dir.resolve("missing").toString()));
        assertEquals("keel tune: --root " + dir.resolve("missing") + " is not a directory\n", err.toString());
    }

    /** Every file below {@code root} with its text: what a run may have written. */
    private static Map<String, String> snapshot(Path root) {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), Files.readString(p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }
}
