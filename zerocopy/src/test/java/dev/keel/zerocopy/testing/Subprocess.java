package dev.keel.zerocopy.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client program (curl, python3, openssl) run to its end within a time limit: its output goes
 * to files rather than pipes, so nothing here blocks on a read, and a program still running at
 * the limit is killed (SIGKILL) and reported as a failure with what it printed. A test that uses
 * it fails; it never hangs.
 */
public final class Subprocess {
    /** What a finished program left: its exit status, its standard output and its standard error. */
    public record Result(int exit, byte[] out, String err) {
        /** Standard output as ISO-8859-1 text (every byte one char). */
        public String text() {
            return new String(out, StandardCharsets.ISO_8859_1);
        }

        /** Standard output as UTF-8 text. */
        public String utf8() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    private Subprocess() {
    }

    /**
     * Runs {@code command} with nothing on its standard input and waits at most {@code limit}.
     *
     * @throws AssertionError when it did not finish in time (it is killed first), naming the
     *         command and what it printed
     */
    public static Result run(Duration limit, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("keel-subprocess", ".out");
        Path err = Files.createTempFile("keel-subprocess", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(command.get(0) + " did not finish within " + limit + ": " + command
                        + "\nstdout: " + Files.readString(out, StandardCharsets.ISO_8859_1)
                        + "\nstderr: " + Files.readString(err, StandardCharsets.ISO_8859_1));
            }
            return new Result(p.exitValue(), Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** {@link #run(Duration, List)} of {@code command}. */
    public static Result run(Duration limit, String... command) throws IOException, InterruptedException {
        return run(limit, List.of(command));
    }
}
