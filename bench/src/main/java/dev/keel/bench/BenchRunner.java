package dev.keel.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Runs JMH as {@code org.openjdk.jmh.Main} would (same command-line options), {@code rounds}
 * times over, then writes all rounds as one Markdown table with {@link MarkdownTable}. Used by
 * {@code bench/run.sh}.
 *
 * <p>Rounds exist because this machine is small and shared: a round is the whole selected suite,
 * so every benchmark is measured once per round at a different moment, and the median of the
 * rounds shrugs off a disturbance that a single long run would average in. With
 * {@code -rff FILE.json} and several rounds, round {@code N} goes to {@code FILE-rN.json}.
 *
 * <p>Usage: {@code BenchRunner <markdown-file> <rounds> [JMH options...]}
 */
public final class BenchRunner {
    private BenchRunner() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: BenchRunner <markdown-file> <rounds> [JMH options...]");
            System.exit(2);
        }
        Path markdown = Path.of(args[0]);
        int rounds = Integer.parseInt(args[1]);
        CommandLineOptions cli = new CommandLineOptions(Arrays.copyOfRange(args, 2, args.length));
        List<Collection<RunResult>> results = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Options options = cli;
            if (rounds > 1) {
                System.out.println("bench: round " + round + " of " + rounds);
                if (cli.getResult().hasValue()) {
                    options = new OptionsBuilder().parent(cli).result(roundFile(cli.getResult().get(), round)).build();
                }
            }
            Collection<RunResult> one = new Runner(options).run();
            if (one.isEmpty()) {
                System.err.println("bench: no benchmark matched " + cli.getIncludes());
                System.exit(1);
            }
            results.add(one);
        }
        write(markdown, MarkdownTable.render(results));
        System.out.println("bench: wrote " + markdown);
    }

    private static String roundFile(String file, int round) {
        int dot = file.lastIndexOf('.');
        return dot > file.lastIndexOf('/') ? file.substring(0, dot) + "-r" + round + file.substring(dot)
                : file + "-r" + round;
    }

    private static void write(Path file, String text) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }
}
