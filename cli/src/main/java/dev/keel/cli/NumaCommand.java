package dev.keel.cli;

import dev.keel.numa.IdSet;
import dev.keel.numa.MemoryPolicy;
import dev.keel.numa.NumaException;
import dev.keel.numa.NumaMaps;
import dev.keel.numa.NumaMemory;
import dev.keel.numa.NumaNode;
import dev.keel.numa.NumaTopology;
import dev.keel.numa.PageHistogram;
import dev.keel.numa.Placement;
import dev.keel.numa.ThreadPlacement;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code keel numa}: the NUMA view a tuner needs. Without arguments, like
 * {@code numactl --hardware} (nodes, CPUs, size, free, distances) plus what numactl leaves out:
 * memoryless nodes, the nodes this process may use and why, its memory policy and where the
 * thread runs. {@code --verify} allocates on each allowed node and shows where the pages
 * landed; {@code maps PID} sums {@code /proc/PID/numa_maps} per node. {@code --json} for
 * scripts. The hidden {@code --root DIR} reads a recorded sysfs/procfs tree instead of this
 * machine's.
 */
final class NumaCommand implements Command {
    private static final long MIB = 1L << 20;
    private static final long DEFAULT_VERIFY_MIB = 16;

    @Override
    public String name() {
        return "numa";
    }

    @Override
    public String summary() {
        return "NUMA nodes, memory, distances and policy; --verify placement; maps PID";
    }

    private record Options(boolean json, boolean verify, boolean help, Path root, long verifyMib, int mapsPid) {
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        Options o = parse(args);
        if (o.help()) {
            out.print(usage());
            return Keel.EXIT_OK;
        }
        try {
            if (o.mapsPid() >= 0) {
                return maps(o, out);
            }
            if (o.verify()) {
                return verify(o, out, err);
            }
            return hardware(o, out);
        } catch (NumaException | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("keel numa: " + e.getMessage());
            return Keel.EXIT_FAILURE;
        }
    }

    private static String usage() {
        return """
                usage: keel numa [--json]             nodes, CPUs, memory, distances, allowed nodes, policy
                       keel numa --verify [--size MIB] [--json]
                                                      allocate MIB (default 16) on each allowed node,
                                                      touch it and show where the pages landed
                       keel numa maps PID [--json]    /proc/PID/numa_maps summed per node
                """;
    }

    private static Options parse(String[] args) {
        boolean json = false;
        boolean verify = false;
        boolean help = false;
        Path root = null;
        long mib = DEFAULT_VERIFY_MIB;
        int pid = -1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--json" -> json = true;
                case "--verify" -> verify = true;
                case "--help", "-h" -> help = true;
                case "--root" -> root = Path.of(next(args, ++i, "--root needs a directory"));
                case "--size" -> mib = positive(next(args, ++i, "--size needs a number of MiB"), "--size");
                case "maps" -> pid = (int) positive(next(args, ++i, "maps needs a PID"), "PID");
                default -> throw new UsageException("unknown argument '" + a + "' (see keel numa --help)");
            }
        }
        if (verify && pid >= 0) {
            throw new UsageException("--verify and maps are separate commands");
        }
        if (verify && root != null) {
            throw new UsageException("--verify allocates memory on this machine; it cannot run on a recorded tree (--root)");
        }
        if (root != null && !Files.isDirectory(root)) {
            throw new UsageException("--root " + root + " is not a directory");
        }
        return new Options(json, verify, help, root, mib, pid);
    }

    private static String next(String[] args, int i, String missing) {
        if (i >= args.length) {
            throw new UsageException(missing);
        }
        return args[i];
    }

    private static long positive(String text, String what) {
        try {
            long v = Long.parseLong(text);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through to the usage error
        }
        throw new UsageException(what + " must be a positive number, not '" + text + "'");
    }

    // ---- keel numa ------------------------------------------------------------------------

    private record Policy(MemoryPolicy policy, String unknownWhy) {
    }

    private static int hardware(Options o, PrintStream out) {
        NumaTopology t = o.root() == null ? NumaTopology.system() : NumaTopology.read(o.root());
        Policy policy = policy(o, t);
        ThreadPlacement thread = thread(o, t);
        if (o.json()) {
            out.println(hardwareJson(t, policy, thread));
        } else {
            out.print(hardwareText(t, policy, thread));
        }
        return Keel.EXIT_OK;
    }

    private static Policy policy(Options o, NumaTopology t) {
        if (o.root() != null) {
            return new Policy(null, "not read from a recorded tree");
        }
        if (t.syscallProblem().isPresent()) {
            return new Policy(null, t.syscallProblem().get());
        }
        try {
            return new Policy(MemoryPolicy.ofCurrentThread(), null);
        } catch (NumaException e) {
            return new Policy(null, e.getMessage());
        }
    }

    private static ThreadPlacement thread(Options o, NumaTopology t) {
        Path root = o.root() == null ? Path.of("/") : o.root();
        if (!Files.exists(root.resolve("proc/thread-self/stat"))) {
            return null;
        }
        return ThreadPlacement.read(root, t);
    }

    private static String source(NumaTopology t, Path file) {
        return "/" + t.root().relativize(file);
    }

    static String hardwareText(NumaTopology t, Policy policy, ThreadPlacement thread) {
        StringBuilder sb = new StringBuilder();
        List<NumaNode> nodes = t.nodes();
        sb.append("available: ").append(nodes.size()).append(nodes.size() == 1 ? " node (" : " nodes (")
                .append(t.onlineNodes()).append(")\n");
        for (NumaNode n : nodes) {
            sb.append("node ").append(n.id()).append(" cpus:").append(n.cpus().isEmpty() ? "" : " " + n.cpus().spaced())
                    .append('\n');
            sb.append("node ").append(n.id()).append(" size: ").append(n.memTotal() / MIB).append(" MB\n");
            sb.append("node ").append(n.id()).append(" free: ").append(n.memFree() / MIB).append(" MB\n");
        }
        if (t.hasDistances()) {
            sb.append("node distances:\nnode ");
            nodes.forEach(n -> sb.append(String.format(java.util.Locale.ROOT, "%4d", n.id())));
            sb.append('\n');
            for (NumaNode from : nodes) {
                sb.append(String.format(java.util.Locale.ROOT, "%4d:", from.id()));
                nodes.forEach(to -> sb.append(String.format(java.util.Locale.ROOT, "%4d", t.distance(from.id(), to.id()))));
                sb.append('\n');
            }
        } else {
            sb.append("node distances: not reported by this kernel\n");
        }
        sb.append("possible nodes: ").append(t.possibleNodes()).append('\n');
        IdSet memoryless = t.memorylessNodes();
        sb.append("memoryless nodes: ").append(memoryless.isEmpty() ? "none" : memoryless.toString()).append('\n');
        sb.append("mems allowed: ").append(t.kernelMemsAllowed()).append(" (").append(t.kernelMemsSource()).append(")\n");
        sb.append("cpuset mems: ").append(t.cpusetMems().map(m -> m + " (" + source(t, t.cpusetSource().orElseThrow()) + ")")
                .orElse("no cpuset file found")).append('\n');
        sb.append("allowed nodes: ").append(t.allowedNodes()).append('\n');
        sb.append("policy: ").append(policy.policy() != null ? policy.policy().toString() : "unknown: " + policy.unknownWhy())
                .append('\n');
        if (thread != null) {
            sb.append("this thread: cpu ").append(thread.cpu()).append(" on node ")
                    .append(thread.node() >= 0 ? Integer.toString(thread.node()) : "?")
                    .append(", allowed cpus ").append(thread.allowedCpus()).append('\n');
        }
        return sb.toString();
    }

    private static String hardwareJson(NumaTopology t, Policy policy, ThreadPlacement thread) {
        NumaJson j = new NumaJson().beginObject();
        j.name("online").ints(t.onlineNodes().toArray());
        j.name("possible").ints(t.possibleNodes().toArray());
        j.name("nodes").beginArray();
        for (NumaNode n : t.nodes()) {
            j.beginObject().name("id").value(n.id()).name("cpus").ints(n.cpus().toArray())
                    .name("memTotalBytes").value(n.memTotal()).name("memFreeBytes").value(n.memFree())
                    .name("memoryless").value(n.memoryless());
            j.name("distances");
            if (t.hasDistances()) {
                j.ints(t.nodes().stream().mapToInt(to -> t.distance(n.id(), to.id())).toArray());
            } else {
                j.nullValue();
            }
            j.endObject();
        }
        j.endArray();
        j.name("memoryless").ints(t.memorylessNodes().toArray());
        j.name("memsAllowed").beginObject().name("nodes").ints(t.kernelMemsAllowed().toArray())
                .name("source").value(t.kernelMemsSource()).endObject();
        j.name("cpusetMems");
        if (t.cpusetMems().isPresent()) {
            j.beginObject().name("nodes").ints(t.cpusetMems().get().toArray())
                    .name("source").value(source(t, t.cpusetSource().orElseThrow())).endObject();
        } else {
            j.nullValue();
        }
        j.name("allowed").ints(t.allowedNodes().toArray());
        j.name("policy");
        if (policy.policy() != null) {
            j.beginObject().name("mode").value(policy.policy().mode()).name("nodes").ints(policy.policy().nodes().toArray())
                    .endObject();
        } else {
            j.nullValue();
        }
        j.name("problem").value(policy.policy() == null ? policy.unknownWhy() : null);
        j.name("thread");
        if (thread != null) {
            j.beginObject().name("cpu").value(thread.cpu()).name("node").value(thread.node())
                    .name("allowedCpus").ints(thread.allowedCpus().toArray()).endObject();
        } else {
            j.nullValue();
        }
        return j.endObject().toString();
    }

    // ---- keel numa --verify ---------------------------------------------------------------

    private record Verified(int node, PageHistogram histogram, boolean ok) {
    }

    private static int verify(Options o, PrintStream out, PrintStream err) {
        NumaTopology t = NumaTopology.system();
        IdSet nodes = t.allowedNodes().minus(t.memorylessNodes());
        long bytes = o.verifyMib() * MIB;
        List<Verified> results = new ArrayList<>();
        if (!o.json()) {
            out.println("verify: " + o.verifyMib() + " MiB bound to each allowed node (" + nodes
                    + "), pre-faulted, pages located with move_pages");
        }
        for (int node : nodes.toArray()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = NumaMemory.bind(node).withPrefault().checkedAgainst(t).allocate(arena, bytes);
                PageHistogram h = Placement.of(m);
                Verified v = new Verified(node, h, h.allPresentOn(IdSet.of(node)));
                results.add(v);
                if (!o.json()) {
                    out.println(verifiedLine(v));
                }
            }
        }
        boolean ok = results.stream().allMatch(Verified::ok);
        if (o.json()) {
            NumaJson j = new NumaJson().beginObject().name("sizeBytes").value(bytes).name("results").beginArray();
            for (Verified v : results) {
                j.beginObject().name("node").value(v.node()).name("pages").value(v.histogram().pages())
                        .name("perNode").longsByKey(v.histogram().perNode())
                        .name("notPresent").value(v.histogram().notPresent())
                        .name("errors").longsByKey(v.histogram().errors())
                        .name("ok").value(v.ok()).endObject();
            }
            out.println(j.endArray().name("ok").value(ok).endObject());
        }
        if (!ok) {
            err.println("keel numa: pages landed off the node they were bound to");
        }
        return ok ? Keel.EXIT_OK : Keel.EXIT_FAILURE;
    }

    private static String verifiedLine(Verified v) {
        PageHistogram h = v.histogram();
        StringBuilder sb = new StringBuilder("node ").append(v.node()).append(": ").append(h.onNode(v.node()))
                .append(" of ").append(h.pages()).append(" pages on node ").append(v.node());
        if (!v.ok()) {
            sb.append(" (").append(h).append("): MISPLACED");
        } else {
            sb.append(": ok");
        }
        return sb.toString();
    }

    // ---- keel numa maps PID ---------------------------------------------------------------

    private static int maps(Options o, PrintStream out) {
        Path root = o.root() == null ? Path.of("/") : o.root();
        NumaMaps m = NumaMaps.read(root, o.mapsPid());
        if (o.json()) {
            NumaJson j = new NumaJson().beginObject().name("pid").value(m.pid()).name("mappings").value(m.mappings())
                    .name("nodes").beginArray();
            for (Map.Entry<Integer, Long> e : m.bytesByNode().entrySet()) {
                j.beginObject().name("node").value(e.getKey()).name("pages").value(m.pagesByNode().get(e.getKey()))
                        .name("bytes").value(e.getValue()).name("hugeBytes").value(m.hugeByNode().getOrDefault(e.getKey(), 0L))
                        .endObject();
            }
            out.println(j.endArray().name("totalBytes").value(m.totalBytes()).endObject());
            return Keel.EXIT_OK;
        }
        String comm;
        try {
            comm = Files.readString(root.resolve("proc/" + o.mapsPid() + "/comm")).strip();
        } catch (java.io.IOException e) {
            comm = "?";
        }
        StringBuilder sb = new StringBuilder();
        sb.append("numa_maps of pid ").append(m.pid()).append(" (").append(comm).append("): ")
                .append(m.mappings()).append(" mappings\n");
        sb.append(String.format(java.util.Locale.ROOT, "%-6s %12s %12s %12s%n", "node", "pages", "MiB", "huge MiB"));
        long pages = 0;
        long huge = 0;
        for (Map.Entry<Integer, Long> e : m.bytesByNode().entrySet()) {
            long p = m.pagesByNode().get(e.getKey());
            long h = m.hugeByNode().getOrDefault(e.getKey(), 0L);
            pages += p;
            huge += h;
            sb.append(String.format(java.util.Locale.ROOT, "%-6d %12d %12.1f %12.1f%n", e.getKey(), p, mib(e.getValue()), mib(h)));
        }
        sb.append(String.format(java.util.Locale.ROOT, "%-6s %12d %12.1f %12.1f%n", "total", pages, mib(m.totalBytes()), mib(huge)));
        out.print(sb);
        return Keel.EXIT_OK;
    }

    private static double mib(long bytes) {
        return (double) bytes / MIB;
    }
}
