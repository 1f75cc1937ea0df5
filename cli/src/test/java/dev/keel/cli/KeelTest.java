package dev.keel.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeelTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    void shouldPrintHelpWithUsage() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("usage: keel <command>"), out.toString());
    }

    @Test
    void shouldRefuseAnUnknownCommandWithOneLineAndStatusTwo() {
        assertEquals(2, run("frobnicate"));
        assertEquals("keel: unknown command 'frobnicate' (see keel --help)\n", err.toString());
    }
}
