package dev.keel.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;

/**
 * Runs JMH exactly as {@code org.openjdk.jmh.Main} would (same command-line options, so
 * {@code -rf json -rff FILE} still writes JMH's JSON), then writes the results as a Markdown
 * table with {@link MarkdownTable}. Used by {@code bench/run.sh}.
 *
 * <p>Usage: {@code BenchRunner <markdown-file> [JMH options...]}
 */
public final class BenchRunner {
    private BenchRunner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: BenchRunner <markdown-file> [JMH options...]");
            System.exit(2);
        }
        Path markdown = Path.of(args[0]);
        CommandLineOptions options = new CommandLineOptions(Arrays.copyOfRange(args, 1, args.length));
        Collection<RunResult> results = new Runner(options).run();
        if (results.isEmpty()) {
            System.err.println("bench: no benchmark matched " + options.getIncludes());
            System.exit(1);
        }
        write(markdown, MarkdownTable.render(results));
        System.out.println("bench: wrote " + markdown);
    }

    private static void write(Path file, String text) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
