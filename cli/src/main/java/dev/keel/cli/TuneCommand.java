package dev.keel.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code keel tune [--json] [--strict] [--apply] [--connections N]}: a latency checklist of
 * this machine. For each item: what is set, what a latency-critical server wants and why, and
 * the command that would change it. It only reads, unless {@code --apply} (as root) writes
 * the changes keel can make itself and prints each one. {@code --strict} exits 1 while an item
 * is to change, for CI and provisioning scripts. {@code --root DIR} (not in the help) reads a
 * recorded tree instead of "/". The JSON form is described in docs/tune-json.md.
 */
final class TuneCommand implements Command {
    /** Bumped when a JSON field changes meaning or goes away. */
    static final int SCHEMA = 1;
    /** Connections planned by default: one loop's connection table (LoopOptions maxConnections). */
    static final long DEFAULT_CONNECTIONS = 16_384;

    @Override
    public String name() {
        return "tune";
    }

    @Override
    public String summary() {
        return "latency checklist of this machine: what is set, what a server wants, why, how to change it";
    }

    static String usage() {
        return """
                usage: keel tune [--json] [--strict] [--apply] [--connections N]
                  --json           machine-readable output (schema: docs/tune-json.md)
                  --strict         exit 1 when an item is to change (for CI and provisioning)
                  --apply          make the changes keel can make itself (sysctls, governor,
                                   C-states, THP, clocksource), as root, and print each one;
                                   boot parameters, services and limits are left to you
                  --connections N  connections a server here should hold (default 16384), for
                                   the open-file limit
                Items: CPU governor, turbo, C-states, isolated CPUs, irqbalance, clocksource,
                transparent huge pages, swappiness, NUMA balancing, busy polling, listen
                backlogs, TCP buffers and device backlog, RLIMIT_NOFILE, io_uring.
                Nothing is changed without --apply.
                """;
    }

    /**
     * One write of --apply.
     *
     * @param item   the item it belongs to
     * @param file   the file as the kernel names it
     * @param before its value before
     * @param after  its value read back
     * @param error  why it failed, if it did
     */
    record Change(String item, String file, String before, String after, Optional<String> error) {
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        CommandOptions o = CommandOptions.parse(args, java.util.Set.of("connections", "root"),
                java.util.Set.of("json", "strict", "apply", "help"));
        if (o.flag("help")) {
            out.print(usage());
            return Keel.EXIT_OK;
        }
        if (o.flag("apply")) {
            Optional<String> refusal = Superuser.refusal("--apply writes kernel settings and");
            if (refusal.isPresent()) {
                err.println("keel tune: " + refusal.get());
                return Keel.EXIT_FAILURE;
            }
        }
        Path root = Path.of(o.value("root", "/"));
        if (!Files.isDirectory(root)) {
            throw new UsageException("--root " + root + " is not a directory");
        }
        long connections = o.integer("connections", (int) DEFAULT_CONNECTIONS, 1, 100_000_000);
        RootFiles files = new RootFiles(root);
        List<TuneItem> items = check(files, connections);
        List<Change> changes = List.of();
        if (o.flag("apply")) {
            changes = apply(files, items);
            items = check(files, connections);
        }
        out.print(o.flag("json") ? Json.write(json(root, items, changes)) : text(root, items, changes, o.flag("apply")));
        boolean failed = changes.stream().anyMatch(c -> c.error().isPresent());
        boolean toChange = items.stream().anyMatch(i -> i.status() == TuneItem.Status.FAIL);
        return failed || o.flag("strict") && toChange ? Keel.EXIT_FAILURE : Keel.EXIT_OK;
    }

    static List<TuneItem> check(RootFiles files, long connections) {
        List<TuneItem> items = new ArrayList<>(new CpuTuneChecks(files).run());
        items.addAll(new SystemTuneChecks(files, connections).run());
        return items;
    }

    /** Writes every fix of every item to change; a file is written, never created. */
    static List<Change> apply(RootFiles files, List<TuneItem> items) {
        List<Change> changes = new ArrayList<>();
        for (TuneItem item : items) {
            if (item.status() != TuneItem.Status.FAIL) {
                continue;
            }
            for (TuneItem.Fix fix : item.fixes()) {
                String before = files.read(fix.file()).orElse("");
                Optional<String> error = Optional.empty();
                try {
                    Files.writeString(files.path(fix.file()), fix.value() + "\n", StandardCharsets.US_ASCII,
                            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                } catch (IOException e) {
                    error = Optional.of(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
                }
                String after = files.read(fix.file()).orElse("");
                changes.add(new Change(item.id(), "/" + fix.file(), before, after, error));
            }
        }
        return changes;
    }

    private static String text(Path root, List<TuneItem> items, List<Change> changes, boolean applied) {
        StringBuilder sb = new StringBuilder();
        for (Change c : changes) {
            sb.append(c.error().isEmpty() ? "changed " : "not changed ").append(c.file()).append(": ").append(c.before())
                    .append(" -> ").append(c.error().isEmpty() ? c.after() : c.error().get()).append('\n');
        }
        if (applied && changes.isEmpty()) {
            sb.append("nothing keel can change itself\n");
        }
        if (applied) {
            sb.append('\n');
        }
        Map<TuneItem.Status, Integer> count = counts(items);
        sb.append("keel tune: ").append(items.size()).append(" items: ").append(count.get(TuneItem.Status.OK))
                .append(" as wanted, ").append(count.get(TuneItem.Status.FAIL)).append(" to change, ")
                .append(count.get(TuneItem.Status.INFO)).append(" for information")
                .append(root.equals(Path.of("/")) ? "" : " (recorded tree " + root + ")").append("\n");
        for (TuneItem i : items) {
            sb.append('\n').append(String.format("%-4s  %s (%s)%n", i.status() == TuneItem.Status.FAIL ? "FIX"
                    : i.status().name(), i.title(), i.id()));
            sb.append("      set:   ").append(i.current()).append('\n');
            sb.append("      wants: ").append(i.wanted()).append('\n');
            sb.append("      why:   ").append(i.why()).append('\n');
            for (String c : i.commands()) {
                sb.append("      run:   ").append(c).append('\n');
            }
        }
        if (!applied && count.get(TuneItem.Status.FAIL) > 0) {
            sb.append("\nNothing was changed; keel tune --apply (as root) makes the sysctl, governor, C-state, THP and"
                    + " clocksource changes above.\n");
        }
        return sb.toString();
    }

    private static Map<TuneItem.Status, Integer> counts(List<TuneItem> items) {
        Map<TuneItem.Status, Integer> count = new LinkedHashMap<>();
        for (TuneItem.Status s : TuneItem.Status.values()) {
            count.put(s, (int) items.stream().filter(i -> i.status() == s).count());
        }
        return count;
    }

    private static Map<String, Object> json(Path root, List<TuneItem> items, List<Change> changes) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema", SCHEMA);
        m.put("root", root.toString());
        Map<String, Object> summary = new LinkedHashMap<>();
        counts(items).forEach((s, n) -> summary.put(s.name().toLowerCase(Locale.ROOT), n));
        m.put("summary", summary);
        List<Object> list = new ArrayList<>();
        for (TuneItem i : items) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("id", i.id());
            item.put("title", i.title());
            item.put("status", i.status().name().toLowerCase(Locale.ROOT));
            item.put("current", i.current());
            item.put("wanted", i.wanted());
            item.put("why", i.why());
            item.put("commands", i.commands());
            item.put("applies", i.fixes().stream().map(f -> "/" + f.file()).toList());
            list.add(item);
        }
        m.put("items", list);
        List<Object> applied = new ArrayList<>();
        for (Change c : changes) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("item", c.item());
            one.put("file", c.file());
            one.put("before", c.before());
            one.put("after", c.after());
            one.put("error", c.error().orElse(null));
            applied.add(one);
        }
        m.put("applied", applied);
        return m;
    }
}
