package dev.keel.affinity;

import dev.keel.ffm.FileLocks;
import dev.keel.ffm.Files;
import dev.keel.ffm.Sched;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * CPU reservations shared by every thread and process that uses the same directory: one lock
 * file per CPU ({@code cpu-N.lock}), held with an open file description lock (see
 * {@link FileLocks}).
 *
 * <p>Reserving is one non-blocking lock call, never "check whether the file exists, then
 * create it": two contenders cannot both win. The files are never deleted (deleting one
 * while it is held would let a second holder lock a new file of the same name), and a lock
 * disappears with its holder: when a process is killed, even with kill -9, the kernel closes
 * its descriptors and the CPU is free again, with no stale file to clean.
 *
 * <p>The directory is {@code -Dkeel.cpu.lockdir=DIR}, else the environment variable
 * {@code KEEL_CPU_LOCKDIR}, else {@code keel-cpu-locks} in {@code java.io.tmpdir}. Processes of
 * several users need a directory all of them may create files in. A holder writes who it is
 * into the file (pid, thread, its command as {@link #as} named it), so others can say whose
 * CPU they plan around.
 */
public final class CpuReservations {
    /** System property naming the lock directory. */
    public static final String DIRECTORY_PROPERTY = "keel.cpu.lockdir";
    /** Environment variable naming the lock directory when the property is not set (child processes inherit it). */
    public static final String DIRECTORY_ENV = "KEEL_CPU_LOCKDIR";
    /** System property naming this process in lock files (the {@code keel} command sets it to its command line). */
    public static final String COMMAND_PROPERTY = "keel.process.command";
    /** Longest command written into a lock file: a line for people, not the whole argv. */
    private static final int MAX_COMMAND = 200;

    private final Path directory;
    private final String command;

    private CpuReservations(Path directory, String command) {
        this.directory = directory;
        this.command = command;
    }

    /** Reservations in {@code directory}, created if missing. */
    public static CpuReservations in(Path directory) {
        try {
            java.nio.file.Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the CPU lock directory " + directory, e);
        }
        return new CpuReservations(directory, defaultCommand());
    }

    /**
     * Reservations in the configured directory: {@value #DIRECTORY_PROPERTY}, else
     * {@value #DIRECTORY_ENV}, else {@code keel-cpu-locks} in java.io.tmpdir.
     */
    public static CpuReservations shared() {
        return in(sharedDirectory());
    }

    /** The directory {@link #shared()} uses. */
    public static Path sharedDirectory() {
        String property = System.getProperty(DIRECTORY_PROPERTY);
        String env = System.getenv(DIRECTORY_ENV);
        return property != null && !property.isEmpty() ? Path.of(property)
                : env != null && !env.isEmpty() ? Path.of(env)
                : Path.of(System.getProperty("java.io.tmpdir"), "keel-cpu-locks");
    }

    /** The same reservations, whose leases name this process's command as {@code command} (e.g. "keel serve --port 8080"). */
    public CpuReservations as(String command) {
        return new CpuReservations(directory, oneLine(command));
    }

    /** The directory of the per-CPU lock files (see the class comment for where it comes from). */
    public Path directory() {
        return directory;
    }

    /** The command leases taken through this instance write into their lock files. */
    public String command() {
        return command;
    }

    /** The lock file of {@code cpu}. */
    public Path lockFile(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("CPU number " + cpu + " is negative");
        }
        return directory.resolve("cpu-" + cpu + ".lock");
    }

    /** Reserves {@code cpu} if no one holds it. */
    public Optional<CpuLease> tryReserve(int cpu) {
        return tryReserve(CpuSet.of(cpu));
    }

    /**
     * Reserves all of {@code cpus} or none: locks in ascending order and, when one is held
     * elsewhere, releases those it took.
     */
    public Optional<CpuLease> tryReserve(CpuSet cpus) {
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("nothing to reserve: no CPUs given");
        }
        int[] ids = cpus.toArray();
        Path[] files = new Path[ids.length];
        int[] fds = new int[ids.length];
        int locked = 0;
        boolean done = false;
        try {
            for (int i = 0; i < ids.length; i++) {
                files[i] = lockFile(ids[i]);
                int fd = FileLocks.openForLock(files[i].toString());
                if (!FileLocks.tryLock(fd)) {
                    Files.close(fd);
                    return Optional.empty();
                }
                fds[i] = fd;
                locked = i + 1;
                writeHolder(files[i], command);
            }
            done = true;
            return Optional.of(new CpuLease(cpus, files, fds));
        } finally {
            if (!done && locked > 0) {
                // Give back what was taken, through a lease so the files are cleared as on close.
                int n = locked;
                new CpuLease(CpuSet.of(java.util.Arrays.copyOf(ids, n)), java.util.Arrays.copyOf(files, n),
                        java.util.Arrays.copyOf(fds, n)).close();
            }
        }
    }

    /** Reserves the whole physical core of {@code cpu} (it and its SMT siblings) if no one holds any of them. */
    public Optional<CpuLease> tryReserveCore(CpuTopology topology, int cpu) {
        Cpu c = topology.cpu(cpu).orElseThrow(() -> new IllegalArgumentException(topology.whyNotUsable(cpu).orElseThrow()));
        return tryReserve(c.siblings().isEmpty() ? CpuSet.of(cpu) : c.siblings());
    }

    /**
     * Reserves {@code cpu}.
     *
     * @throws IllegalStateException naming the holder when someone holds it
     */
    public CpuLease reserve(int cpu) {
        return tryReserve(cpu).orElseThrow(() -> new IllegalStateException(holder(cpu)
                .map(h -> "cannot reserve CPU " + cpu + ": " + h)
                .orElse("cannot reserve CPU " + cpu + ": held by another process (" + lockFile(cpu) + ")")));
    }

    /** Who holds {@code cpu}, or empty when no one does. */
    public Optional<CpuHolder> holder(int cpu) {
        Path file = lockFile(cpu);
        if (!java.nio.file.Files.exists(file)) {
            return Optional.empty();
        }
        int fd = FileLocks.openToQuery(file.toString());
        try {
            if (!FileLocks.isLockedByOther(fd)) {
                return Optional.empty();
            }
        } finally {
            Files.close(fd);   // an OFD lock held through another description survives this close
        }
        return Optional.of(readHolder(cpu, file));
    }

    /** Every CPU held now, by this process or another, with its holder. */
    public List<CpuHolder> holders() {
        List<CpuHolder> held = new ArrayList<>();
        lockFileCpus().stream().forEach(cpu -> holder(cpu).ifPresent(held::add));
        return held;
    }

    /** The CPUs held now by anyone, e.g. to leave them out of a {@link CorePlan}. */
    public CpuSet reserved() {
        return CpuSet.of(holders().stream().mapToInt(CpuHolder::cpu).toArray());
    }

    private CpuSet lockFileCpus() {
        try (var entries = java.nio.file.Files.list(directory)) {
            return CpuSet.of(entries.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("cpu-[0-9]+\\.lock"))
                    .mapToInt(n -> Integer.parseInt(n.substring(4, n.length() - 5))).toArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory, e);
        }
    }

    /** The CPUs other processes hold now, with their holders: what a plan of this process leaves to them. */
    public List<CpuHolder> heldByOthers() {
        return holders().stream().filter(h -> !h.isThisProcess()).toList();
    }

    /** Written after the lock is taken: the lock decides, the text only names the holder. */
    private static void writeHolder(Path file, String command) {
        Thread t = Thread.currentThread();
        String text = "pid=" + ProcessHandle.current().pid() + "\ntid=" + Sched.gettid()
                + "\nthread=" + oneLine(t.getName()) + "\ncommand=" + command + "\nsince=" + Instant.now() + "\n";
        try {
            java.nio.file.Files.writeString(file, text, StandardCharsets.UTF_8,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the holder of " + file, e);
        }
    }

    private static CpuHolder readHolder(int cpu, Path file) {
        long pid = -1;
        long tid = -1;
        String thread = "?";
        String command = "?";
        Instant since = Instant.EPOCH;
        try {
            for (String line : java.nio.file.Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String value = line.substring(eq + 1);
                switch (line.substring(0, eq)) {
                    case "pid" -> pid = Long.parseLong(value);
                    case "tid" -> tid = Long.parseLong(value);
                    case "thread" -> thread = value;
                    case "command" -> command = value;
                    case "since" -> since = Instant.parse(value);
                    default -> { }
                }
            }
        } catch (IOException | RuntimeException e) {
            // Caught mid-write by a new holder: the CPU is held, by whom is not known yet.
        }
        return new CpuHolder(cpu, pid, tid, thread, command, since);
    }

    /**
     * What this JVM runs, for lock files: {@value #COMMAND_PROPERTY} if set, else its main
     * class (or jar) and arguments ({@code sun.java.command}), else "java".
     */
    private static String defaultCommand() {
        String named = System.getProperty(COMMAND_PROPERTY);
        String c = named != null && !named.isBlank() ? named : System.getProperty("sun.java.command");
        return oneLine(c == null || c.isBlank() ? "java" : c);
    }

    private static String oneLine(String s) {
        String line = s.replace('\n', ' ').replace('\r', ' ').strip();
        return line.length() <= MAX_COMMAND ? line : line.substring(0, MAX_COMMAND - 3) + "...";
    }
}
