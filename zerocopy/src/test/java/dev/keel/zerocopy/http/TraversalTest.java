package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Path traversal and symlink attacks against three servers: openat2 with the default policy
 * (links inside the root allowed), openat2 refusing every link, and the O_NOFOLLOW walk used
 * where openat2 is missing. Every attack must be refused, and no answer may carry a byte of
 * the secret kept next to the root or of /etc/passwd.
 */
@Timeout(120)
class TraversalTest {
    static final String SECRET = "TOP-SECRET-9f1c2e";
    static final Set<Integer> REFUSALS = Set.of(400, 403, 404, 414);

    @TempDir
    static Path base;
    static Path root;
    static FileServer openat2;
    static FileServer strict;
    static FileServer walk;

    @BeforeAll
    static void start() throws Exception {
        root = Files.createDirectories(base.resolve("www"));
        Path secret = Files.writeString(base.resolve("secret.txt"), SECRET + "\n");
        Files.createDirectories(base.resolve("private"));
        Files.writeString(base.resolve("private/key.pem"), SECRET + " key\n");
        Files.writeString(root.resolve("public.txt"), "public\n");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/page.txt"), "page\n");
        Files.createSymbolicLink(root.resolve("link-out.txt"), Path.of("../secret.txt"));
        Files.createSymbolicLink(root.resolve("abs-link.txt"), secret.toAbsolutePath());
        Files.createSymbolicLink(root.resolve("linkdir"), Path.of(".."));
        Files.createSymbolicLink(root.resolve("private-link"), Path.of("../private"));
        Files.createSymbolicLink(root.resolve("etc-link"), Path.of("/etc"));
        Files.createSymbolicLink(root.resolve("proc-link"), Path.of("/proc/self/root"));
        Files.createSymbolicLink(root.resolve("sub/up.txt"), Path.of("../../secret.txt"));
        Files.createSymbolicLink(root.resolve("inside-link.txt"), Path.of("public.txt"));
        Process mkfifo = new ProcessBuilder("mkfifo", root.resolve("fifo").toString()).start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo");
        openat2 = FileServer.builder().root(root).start();
        strict = FileServer.builder().root(root).refuseSymlinks(true).start();
        walk = FileServer.builder().root(root).openat2(false).start();
        assertTrue(openat2.usesOpenat2(), "this kernel has openat2");
        assertFalse(walk.usesOpenat2());
    }

    @AfterAll
    static void stop() {
        for (FileServer s : new FileServer[] {openat2, strict, walk}) {
            if (s != null) {
                s.close();
            }
        }
    }

    static List<String> attacks() {
        List<String> a = new ArrayList<>(List.of(
                "/../secret.txt",
                "/../../secret.txt",
                "/%2e%2e/secret.txt",
                "/%2E%2E/secret.txt",
                "/.%2e/secret.txt",
                "/%2e./secret.txt",
                "/..%2fsecret.txt",
                "/..%2Fsecret.txt",
                "/%2e%2e%2fsecret.txt",
                "/sub/../../secret.txt",
                "/sub/%2e%2e/%2e%2e/secret.txt",
                "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
                "/%252e%252e/secret.txt",
                "/%252e%252e%252fsecret.txt",
                "/..%25%32%66secret.txt",
                "/..%5csecret.txt",
                "/..\\secret.txt",
                "/sub\\..\\..\\secret.txt",
                "/%2e%2e%5c%2e%2e%5csecret.txt",
                "/%c0%ae%c0%ae/secret.txt",
                "/%c0%ae%c0%ae%c0%afsecret.txt",
                "/..%c0%afsecret.txt",
                "/%e0%80%ae%e0%80%ae/secret.txt",
                "/%f0%80%80%ae%f0%80%80%ae/secret.txt",
                "/%c1%9c%c1%9csecret.txt",
                "/%ed%a0%80/secret.txt",
                "/%u002e%u002e/secret.txt",
                "/public.txt%00.html",
                "/../secret.txt%00",
                "/%00",
                "/sub/..%00/secret.txt",
                "/./../secret.txt",
                "/sub/./../../secret.txt",
                "/.../secret.txt",
                "/..;/secret.txt",
                "/%2e%2e;/secret.txt",
                "//etc/passwd",
                "/etc/passwd",
                "/%2fetc%2fpasswd",
                "/..%2f..%2f..%2fetc%2fpasswd",
                "http://localhost/../secret.txt",
                "http://localhost/%2e%2e/secret.txt",
                "/link-out.txt",
                "/link-out.txt/",
                "/abs-link.txt",
                "/linkdir/secret.txt",
                "/linkdir",
                "/linkdir/",
                "/linkdir/www/public.txt",
                "/sub/../linkdir/secret.txt",
                "/linkdir/../secret.txt",
                "/private-link/key.pem",
                "/private-link/",
                "/sub/up.txt",
                "/etc-link/passwd",
                "/etc-link/hostname",
                "/proc-link/etc/passwd",
                "/proc/self/root/etc/passwd",
                "/fifo"));
        a.add("/" + "../".repeat(100) + "secret.txt");
        a.add("/" + "a/".repeat(2100) + "x");
        a.add("/" + "%2e%2e/".repeat(50) + "etc/passwd");
        return a;
    }

    @Test
    void shouldHaveAtLeastFiftyAttacks() {
        assertTrue(attacks().size() >= 50, attacks().size() + " attacks");
    }

    @Test
    void shouldRefuseEveryAttackWithOpenat2() throws Exception {
        refuseAll(openat2);
    }

    @Test
    void shouldRefuseEveryAttackWhenEverySymlinkIsRefused() throws Exception {
        refuseAll(strict);
    }

    @Test
    void shouldRefuseEveryAttackWithTheNoFollowWalk() throws Exception {
        refuseAll(walk);
    }

    private static void refuseAll(FileServer server) throws IOException {
        for (String target : attacks()) {
            for (String method : new String[] {"GET", "HEAD"}) {
                try (RawHttp h = new RawHttp(server.port())) {
                    h.send(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-\r\n\r\n");
                    RawHttp.Response r = h.read(method.equals("HEAD"));
                    assertTrue(REFUSALS.contains(r.status()), method + " " + target + " -> " + r.statusLine());
                    String text = new String(r.body(), StandardCharsets.ISO_8859_1);
                    assertFalse(text.contains(SECRET), target + " leaked the secret");
                    assertFalse(text.contains("root:"), target + " leaked /etc/passwd");
                }
            }
        }
        // ... and the server still serves what is inside.
        assertEquals("public\n", RawHttp.exchange(server.port(), "GET /public.txt HTTP/1.1\r\nHost: x\r\n\r\n").text());
        assertEquals("page\n", RawHttp.exchange(server.port(), "GET /sub/page.txt HTTP/1.1\r\nHost: x\r\n\r\n").text());
    }

    @Test
    void shouldFollowALinkThatStaysInsideTheRootOnlyUnderTheDefaultPolicy() throws Exception {
        String get = "GET /inside-link.txt HTTP/1.1\r\nHost: x\r\n\r\n";
        assertEquals("public\n", RawHttp.exchange(openat2.port(), get).text());
        assertEquals(403, RawHttp.exchange(strict.port(), get).status());
        assertEquals(403, RawHttp.exchange(walk.port(), get).status());
    }

    @Test
    void shouldSayForbiddenForALinkLeavingTheRootAndForAFifo() throws Exception {
        assertEquals(403, RawHttp.exchange(openat2.port(), "GET /link-out.txt HTTP/1.1\r\nHost: x\r\n\r\n").status());
        assertEquals(403, RawHttp.exchange(openat2.port(), "GET /linkdir/secret.txt HTTP/1.1\r\nHost: x\r\n\r\n").status());
        assertEquals(403, RawHttp.exchange(openat2.port(), "GET /fifo HTTP/1.1\r\nHost: x\r\n\r\n").status());
        assertEquals(400, RawHttp.exchange(openat2.port(), "GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n").status());
    }
}
