package dev.keel.cli;

import dev.keel.ffm.IoUringProbe;
import dev.keel.ffm.SyscallException;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The memory, network and limit items of {@code keel tune}: transparent huge pages,
 * swappiness, NUMA balancing, busy polling, listen backlogs, TCP buffers and the device
 * backlog, RLIMIT_NOFILE against the connections planned, and whether io_uring is allowed.
 * Wants follow tuned's network-latency profile where it sets the value, and say why otherwise.
 */
final class SystemTuneChecks {
    /** vm.swappiness wanted at most: tuned's latency-performance value. */
    static final long SWAPPINESS = 10;
    /** net.core.busy_read and busy_poll wanted at least, in microseconds: tuned's network-latency value. */
    static final long BUSY_POLL_MICROS = 50;
    /** net.core.somaxconn and tcp_max_syn_backlog wanted at least: the kernel's own somaxconn default since 5.4. */
    static final long LISTEN_BACKLOG = 4096;
    /** tcp_rmem/tcp_wmem maximum wanted at least: a window for 10 Gb/s at 10 ms round trip (12.5 MB). */
    static final long TCP_BUFFER_MAX = 16L << 20;
    /** net.core.netdev_max_backlog wanted at least: 12 ms of 10 Gb/s at 1500-byte packets (default 1000: 1.2 ms). */
    static final long NETDEV_BACKLOG = 10_000;
    /** Descriptors a server needs beside its connections: listeners, epoll, eventfds, files being served. */
    static final long SPARE_DESCRIPTORS = 64;

    private static final Pattern BRACKETED = Pattern.compile("\\[([^\\]]+)]");

    private final RootFiles files;
    private final long connections;

    /** {@code connections}: how many a server here is meant to hold at once (for RLIMIT_NOFILE). */
    SystemTuneChecks(RootFiles files, long connections) {
        this.files = files;
        this.connections = connections;
    }

    List<TuneItem> run() {
        return List.of(thp(), swappiness(), numaBalancing(), busyPoll(), listenBacklog(), buffers(), nofile(), ioUring());
    }

    private TuneItem thp() {
        String id = "mm.transparent_hugepage";
        String title = "transparent huge pages";
        String dir = "sys/kernel/mm/transparent_hugepage/";
        String wanted = "enabled madvise (or never), defrag defer, madvise or never";
        String why = "with always, page faults anywhere may stop to compact memory for a huge page and khugepaged"
                + " collapses pages under running threads; keel asks for huge pages itself where they help (madvise)";
        Optional<String> enabled = files.read(dir + "enabled").map(SystemTuneChecks::selected);
        Optional<String> defrag = files.read(dir + "defrag").map(SystemTuneChecks::selected);
        if (enabled.isEmpty()) {
            return TuneItem.info(id, title, "not built into this kernel", wanted, why);
        }
        String current = "enabled " + enabled.get() + ", defrag " + defrag.orElse("?");
        List<TuneItem.Fix> fixes = new ArrayList<>();
        if (enabled.get().equals("always")) {
            fixes.add(new TuneItem.Fix(dir + "enabled", "madvise"));
        }
        if (defrag.filter(d -> d.equals("always")).isPresent()) {
            fixes.add(new TuneItem.Fix(dir + "defrag", "madvise"));
        }
        if (fixes.isEmpty()) {
            return TuneItem.ok(id, title, current, wanted, why);
        }
        return TuneItem.fail(id, title, current, wanted, why, List.of("echo madvise > /" + dir + "enabled",
                "echo madvise > /" + dir + "defrag"), fixes);
    }

    private TuneItem swappiness() {
        return atMost("vm.swappiness", "swappiness", "proc/sys/vm/swappiness", SWAPPINESS,
                "a loop whose buffers or code were swapped out stalls on a page fault for milliseconds; low"
                        + " swappiness makes the kernel drop page cache first");
    }

    private TuneItem numaBalancing() {
        String id = "kernel.numa_balancing";
        String title = "automatic NUMA balancing";
        String file = "proc/sys/kernel/numa_balancing";
        String wanted = "0";
        String why = "balancing unmaps pages to see who touches them and migrates them: page faults and copies"
                + " under the loops, whose memory keel already binds to their node";
        Optional<Long> v = files.readLong(file);
        if (v.isEmpty()) {
            return TuneItem.info(id, title, "not in this kernel", wanted, why);
        }
        String nodes = files.read("sys/devices/system/node/online").orElse("0");
        if (v.get() == 0) {
            return TuneItem.ok(id, title, "0", wanted, why);
        }
        if (!nodes.contains("-") && !nodes.contains(",")) {
            return TuneItem.info(id, title, v.get() + " (one NUMA node: nothing to balance)", wanted, why);
        }
        return TuneItem.fail(id, title, Long.toString(v.get()), wanted, why, List.of("sysctl -w kernel.numa_balancing=0"),
                List.of(new TuneItem.Fix(file, "0")));
    }

    private TuneItem busyPoll() {
        String id = "net.core.busy_poll";
        String title = "busy polling (busy_read, busy_poll)";
        String wanted = "at least " + BUSY_POLL_MICROS + " us each";
        String why = "a socket read or poll then spins on the NIC queue for a while before sleeping, taking the"
                + " next packet without an interrupt and a wake-up";
        Optional<Long> read = files.readLong("proc/sys/net/core/busy_read");
        Optional<Long> poll = files.readLong("proc/sys/net/core/busy_poll");
        if (read.isEmpty() || poll.isEmpty()) {
            return TuneItem.info(id, title, "not in this kernel (CONFIG_NET_RX_BUSY_POLL off)", wanted, why);
        }
        String current = "busy_read " + read.get() + ", busy_poll " + poll.get();
        List<TuneItem.Fix> fixes = new ArrayList<>();
        List<String> commands = new ArrayList<>();
        for (String name : List.of("busy_read", "busy_poll")) {
            if ((name.equals("busy_read") ? read : poll).get() < BUSY_POLL_MICROS) {
                fixes.add(new TuneItem.Fix("proc/sys/net/core/" + name, Long.toString(BUSY_POLL_MICROS)));
                commands.add("sysctl -w net.core." + name + "=" + BUSY_POLL_MICROS);
            }
        }
        return fixes.isEmpty() ? TuneItem.ok(id, title, current, wanted, why)
                : TuneItem.fail(id, title, current, wanted, why, commands, fixes);
    }

    private TuneItem listenBacklog() {
        String id = "net.listen_backlog";
        String title = "listen backlogs (somaxconn, tcp_max_syn_backlog)";
        String wanted = "at least " + LISTEN_BACKLOG + " each";
        String why = "the kernel cuts each listener's backlog to somaxconn, and a burst of connections beyond it (or"
                + " beyond the SYN queue) is dropped and retried by clients a second later";
        List<TuneItem.Fix> fixes = new ArrayList<>();
        List<String> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String[] s : List.of(new String[] {"net.core.somaxconn", "proc/sys/net/core/somaxconn"},
                new String[] {"net.ipv4.tcp_max_syn_backlog", "proc/sys/net/ipv4/tcp_max_syn_backlog"})) {
            Optional<Long> v = files.readLong(s[1]);
            current.append(current.isEmpty() ? "" : ", ").append(s[0].substring(s[0].lastIndexOf('.') + 1)).append(' ')
                    .append(v.map(Object::toString).orElse("?"));
            if (v.isPresent() && v.get() < LISTEN_BACKLOG) {
                fixes.add(new TuneItem.Fix(s[1], Long.toString(LISTEN_BACKLOG)));
                commands.add("sysctl -w " + s[0] + "=" + LISTEN_BACKLOG);
            }
        }
        return fixes.isEmpty() ? TuneItem.ok(id, title, current.toString(), wanted, why)
                : TuneItem.fail(id, title, current.toString(), wanted, why, commands, fixes);
    }

    private TuneItem buffers() {
        String id = "net.buffers";
        String title = "TCP buffers and device backlog (tcp_rmem, tcp_wmem, netdev_max_backlog)";
        String wanted = "tcp_rmem and tcp_wmem maximum at least " + TCP_BUFFER_MAX + ", netdev_max_backlog at least "
                + NETDEV_BACKLOG;
        String why = "a window too small for the path's bandwidth times its delay stalls senders; packets beyond the"
                + " per-CPU backlog are dropped, and each drop costs a retransmission timeout";
        List<TuneItem.Fix> fixes = new ArrayList<>();
        List<String> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String name : List.of("tcp_rmem", "tcp_wmem")) {
            String file = "proc/sys/net/ipv4/" + name;
            String[] f = files.read(file).orElse("").split("\\s+");
            current.append(name).append(' ').append(String.join(" ", f)).append(", ");
            if (f.length == 3 && Long.parseLong(f[2]) < TCP_BUFFER_MAX) {
                String value = f[0] + " " + f[1] + " " + TCP_BUFFER_MAX;
                fixes.add(new TuneItem.Fix(file, value));
                commands.add("sysctl -w net.ipv4." + name + "='" + value + "'");
            }
        }
        Optional<Long> backlog = files.readLong("proc/sys/net/core/netdev_max_backlog");
        current.append("netdev_max_backlog ").append(backlog.map(Object::toString).orElse("?"));
        if (backlog.isPresent() && backlog.get() < NETDEV_BACKLOG) {
            fixes.add(new TuneItem.Fix("proc/sys/net/core/netdev_max_backlog", Long.toString(NETDEV_BACKLOG)));
            commands.add("sysctl -w net.core.netdev_max_backlog=" + NETDEV_BACKLOG);
        }
        return fixes.isEmpty() ? TuneItem.ok(id, title, current.toString(), wanted, why)
                : TuneItem.fail(id, title, current.toString(), wanted, why, commands, fixes);
    }

    /** "Max open files  1024  524288  files" of /proc/self/limits: what a keel started from this shell gets. */
    private TuneItem nofile() {
        String id = "rlimit.nofile";
        String title = "open-file limit (RLIMIT_NOFILE)";
        long need = connections + SPARE_DESCRIPTORS;
        String wanted = "at least " + need + " (" + connections + " connections + " + SPARE_DESCRIPTORS + ")";
        String why = "every connection is a descriptor; past the limit accept fails with EMFILE and clients wait";
        long soft = -1;
        long hard = -1;
        for (String line : files.lines("proc/self/limits")) {
            if (line.startsWith("Max open files")) {
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                soft = f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
                hard = f[1].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[1]);
            }
        }
        if (soft < 0) {
            return TuneItem.info(id, title, "unknown (no /proc/self/limits)", wanted, why);
        }
        String current = "soft " + soft + ", hard " + hard;
        if (soft >= need) {
            return TuneItem.ok(id, title, current, wanted, why);
        }
        List<String> commands = new ArrayList<>(List.of("ulimit -n " + need + " in the shell that starts keel,"
                + " or LimitNOFILE=" + need + " in its systemd unit"));
        if (hard < need) {
            commands.add("the hard limit is lower: raise it as root (nofile in /etc/security/limits.conf, or"
                    + " LimitNOFILE=" + need + ")" + files.readLong("proc/sys/fs/nr_open").filter(n -> n < need)
                    .map(n -> ", and fs.nr_open (" + n + ")").orElse(""));
        }
        return TuneItem.fail(id, title, current, wanted, why, commands, List.of());
    }

    /** kernel.io_uring_disabled (6.6+) and, on this machine, whether io_uring_setup is allowed (seccomp). */
    private TuneItem ioUring() {
        String id = "io_uring";
        String title = "io_uring allowed";
        String wanted = "allowed (kernel.io_uring_disabled 0), if the io_uring transport is to be used";
        String why = "keel's io_uring transport (--transport io_uring|auto) needs it; without it keel serves over"
                + " epoll. Disabling it is a security choice, so this item informs rather than fails";
        Optional<Long> disabled = files.readLong("proc/sys/kernel/io_uring_disabled");
        String sysctl = disabled.map(v -> "kernel.io_uring_disabled " + v + (v == 0 ? "" : v == 1
                ? " (only the io_uring_group may)" : " (nobody may)")).orElse("no kernel.io_uring_disabled (before 6.6)");
        Optional<String> probe = Optional.empty();
        if (files.isLive()) {
            try {
                IoUringProbe.ofKernel();
                probe = Optional.of("io_uring_setup works");
            } catch (SyscallException e) {
                probe = Optional.of("io_uring_setup fails: " + e.getMessage());
            } catch (RuntimeException | LinkageError e) {
                probe = Optional.of("io_uring_setup cannot be tried: " + e.getMessage());
            }
        }
        String current = sysctl + probe.map(p -> "; " + p).orElse("");
        boolean allowed = probe.map(p -> p.equals("io_uring_setup works")).orElse(disabled.map(v -> v == 0).orElse(true));
        if (allowed) {
            return TuneItem.ok(id, title, current, wanted, why);
        }
        return new TuneItem(id, title, TuneItem.Status.INFO, current, wanted, why,
                disabled.filter(v -> v != 0).map(v -> List.of("sysctl -w kernel.io_uring_disabled=0"))
                        .orElse(List.of("a seccomp filter forbids it: allow io_uring_setup, io_uring_enter and"
                                + " io_uring_register in the container's profile")), List.of());
    }

    private TuneItem atMost(String id, String title, String file, long limit, String why) {
        Optional<Long> v = files.readLong(file);
        String wanted = limit + " or less";
        if (v.isEmpty()) {
            return TuneItem.info(id, title, "not in this kernel", wanted, why);
        }
        if (v.get() <= limit) {
            return TuneItem.ok(id, title, Long.toString(v.get()), wanted, why);
        }
        return TuneItem.fail(id, title, Long.toString(v.get()), wanted, why, List.of("sysctl -w " + id + "=" + limit),
                List.of(new TuneItem.Fix(file, Long.toString(limit))));
    }

    /** The bracketed choice of a sysfs selector file: "always [madvise] never" is madvise. */
    private static String selected(String text) {
        Matcher m = BRACKETED.matcher(text);
        return m.find() ? m.group(1) : text;
    }
}
