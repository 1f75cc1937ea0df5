package dev.keel.cli;

import dev.keel.io.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel train}, the workload make dist records the AOT cache from: it really serves files
 * and echoes on every transport this machine has (requests counted, not merely started), leaves
 * no temporary directory behind, and refuses bad arguments in one line.
 */
class TrainCommandTest {
    private static final Pattern LINE = Pattern.compile("keel train: (\\S+): (\\d+) file requests, (\\d+) echoes");
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    @Timeout(120)
    void servesAndEchoesOnEveryTransportAndCleansUp() throws IOException {
        List<Path> before = trainingDirectories();
        assertEquals(0, run("train", "--seconds", "2"), err.toString());
        List<String> lines = out.toString().lines().toList();
        int transports = Transport.ioUringUnavailableReason() == null ? 2 : 1;
        assertEquals(transports, lines.size(), out.toString());
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertTrue(m.matches(), line);
            assertTrue(Long.parseLong(m.group(2)) > 0, "no file request answered: " + line);
            assertTrue(Long.parseLong(m.group(3)) > 0, "no echo checked: " + line);
        }
        assertEquals(before, trainingDirectories(), "keel train left its temporary directory");
    }

    @Test
    void refusesBadArguments() {
        assertEquals(2, run("train", "--seconds", "0"));
        assertTrue(err.toString().startsWith("keel train: --seconds"), err.toString());
        assertEquals(1, err.toString().lines().count());
        err.reset();
        assertEquals(2, run("train", "--port", "1"));
        assertTrue(err.toString().contains("unknown option --port"), err.toString());
    }

    private static List<Path> trainingDirectories() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("keel-train")).sorted().toList();
        }
    }
}
