package dev.keel.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generated constants are one architecture's: a JVM on another refuses them, naming both,
 * instead of issuing that architecture's system call numbers.
 */
class NativeArchitectureTest {
    /** The architecture this build's headers are not for. */
    private static String foreign() {
        return NativeArchitecture.generatedFor().equals("aarch64") ? "amd64" : "aarch64";
    }

    @Test
    void shouldRefuseAnArchitectureTheConstantsWereNotGeneratedFor() {
        String foreign = foreign();
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> NativeArchitecture.require(foreign));
        String message = e.getMessage();
        assertTrue(message.contains(NativeArchitecture.normalise(foreign)), message);
        assertTrue(message.contains("generated for " + NativeArchitecture.generatedFor()), message);
        assertTrue(message.contains("make gen"), message);
    }

    @Test
    void shouldAcceptTheRunningArchitectureUnderTheJvmsName() {
        assertDoesNotThrow(() -> NativeArchitecture.require(System.getProperty("os.arch")));
        assertEquals("x86_64", NativeArchitecture.normalise("amd64"));
        assertEquals("x86_64", NativeArchitecture.normalise("x86_64"));
        assertEquals("aarch64", NativeArchitecture.normalise("arm64"));
        assertEquals("aarch64", NativeArchitecture.normalise("aarch64"));
        assertEquals("riscv64", NativeArchitecture.normalise("RISCV64"));
    }

    @Test
    @Timeout(60)
    void shouldRefuseAtClassInitialisationOnAForeignArchitecture() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "-Dos.arch=" + foreign(),
                "-cp", System.getProperty("java.class.path"), ArchitectureProbe.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the probe exits");
        assertTrue(out.contains("refused: java.lang.ExceptionInInitializerError")
                && out.contains("generated for " + NativeArchitecture.generatedFor()), out);
        assertTrue(!out.contains("the binding ran"), "no system call was made: " + out);
    }
}
