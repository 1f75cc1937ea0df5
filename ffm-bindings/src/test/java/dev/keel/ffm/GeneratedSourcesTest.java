package dev.keel.ffm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Compiles native/gen/keelgen.c against this machine's headers (with the newer Linux uapi headers
 * native/gen/uapi-flags.sh adds where the machine's predate what keelgen reads) and holds the
 * committed Java to it.
 */
class GeneratedSourcesTest {
    private static final Path MODULE = Path.of("").toAbsolutePath();
    private static final Path GENERATOR = MODULE.resolveSibling("native").resolve("gen/keelgen.c");
    private static final Path UAPI_FLAGS = MODULE.resolveSibling("native").resolve("gen/uapi-flags.sh");
    private static final Path COMMITTED = MODULE.resolve("src/main/java/dev/keel/ffm/gen");
    private static Path binary;

    @BeforeAll
    static void compileGenerator() throws Exception {
        binary = MODULE.resolve("target/keelgen-test");
        Files.createDirectories(binary.getParent());
        List<String> gcc = new ArrayList<>(List.of("gcc", "-O0", "-Wall"));
        String flags = uapiFlags();
        if (!flags.isEmpty()) {
            gcc.addAll(List.of(flags.split("\\s+")));
        }
        gcc.addAll(List.of("-o", binary.toString(), GENERATOR.toString()));
        run(new ProcessBuilder(gcc));
    }

    @ParameterizedTest(name = "{1}.java matches keelgen {0}")
    @CsvSource({"constants, LinuxConstants", "layouts, LinuxLayouts", "errno, Errno", "openssl, OpenSslConstants"})
    void committedSourceMatchesHeaders(String kind, String className) throws Exception {
        String generated = run(new ProcessBuilder(binary.toString(), kind));
        String committed = Files.readString(COMMITTED.resolve(className + ".java"));
        assertEquals(generated, committed,
                className + ".java differs from what the headers give: run `make gen` and commit the result");
    }

    /** What native/gen/uapi-flags.sh prints (its progress lines go to this test's stderr). */
    private static String uapiFlags() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(UAPI_FLAGS.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(UAPI_FLAGS + " failed (see its lines above)");
        }
        return new String(out).strip();
    }

    private static String run(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", pb.command()) + " failed:\n" + new String(out));
        }
        return new String(out);
    }
}
