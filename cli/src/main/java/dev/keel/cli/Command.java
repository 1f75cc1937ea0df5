package dev.keel.cli;

import java.io.PrintStream;

/** One {@code keel} subcommand. */
interface Command {
    /** The word that selects it, e.g. {@code "echo"}. */
    String name();

    /** One line for {@code keel --help}. */
    String summary();

    /**
     * Runs with the arguments after the command word; returns the exit status.
     *
     * @throws UsageException for a bad argument, reported as one line with status 2
     */
    int run(String[] args, PrintStream out, PrintStream err);
}
