package dev.keel.cli;

import dev.keel.io.testing.ResourceSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code keel serve} and {@code keel echo} as processes, against many idle connections, a
 * descriptor limit reached at accept, and a kernel that forbids io_uring. Each scenario ends
 * with the process still serving and its descriptors and threads back where they were. Runs
 * small in {@code make test}, at full size ({@code -Dkeel.stress=true}) under {@code make stress}.
 */
class HostileClientsTest {
    private static final String GET = "GET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n";

    @TempDir
    Path dir;

    private static int size(int small, int full) {
        return Boolean.getBoolean("keel.stress") ? full : small;
    }

    /**
     * The client sockets live in this JVM and the server's in the child, each under this
     * process's RLIMIT_NOFILE (the JVM raises its soft limit to the hard one at start).
     */
    private static void assumeDescriptors(int connections) throws IOException {
        long limit = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max open files"))
                .mapToLong(l -> Long.parseLong(l.substring(26).strip().split("\\s+")[0])).findFirst().orElse(0);
        org.junit.jupiter.api.Assumptions.assumeTrue(limit >= connections + 1000,
                () -> "RLIMIT_NOFILE " + limit + " is too low for " + connections + " connections");
    }

    @Test
    @Timeout(180)
    void shouldCloseIdleConnectionsToKeelServeByTheIdleTimeoutAndGiveEveryDescriptorBack() throws Exception {
        int connections = size(2_000, 10_000);
        assumeDescriptors(connections);
        Files.writeString(dir.resolve("ok.txt"), "still here\n");
        try (KeelProcess keel = KeelProcess.start("serve", "--root", dir.toString(), "--port", "0",
                "--idle-timeout", "3", "--header-timeout", "2")) {
            ResourceSnapshot before = warmBaseline(keel, () -> assertServes(keel.port));
            // Half of them silent since connecting, half idle after one answered request.
            try (IdleClients silent = new IdleClients(keel.port, connections / 2, "");
                 IdleClients kept = new IdleClients(keel.port, connections / 2, GET)) {
                assertServes(keel.port);
                assertEquals(0, silent.awaitClosedByServer(60), "silent connections left open");
                assertEquals(0, kept.awaitClosedByServer(60), "kept-alive connections left open");
            }
            assertServes(keel.port);
            assertBackTo(keel, before);
        }
    }

    @Test
    @Timeout(180)
    void shouldHoldIdleConnectionsToKeelEchoWhileEchoingAndGiveEveryDescriptorBackWhenTheyClose() throws Exception {
        int connections = size(2_000, 10_000);
        assumeDescriptors(connections);
        try (KeelProcess keel = KeelProcess.start("echo", "--port", "0")) {
            ResourceSnapshot before = warmBaseline(keel, () -> assertEchoes(keel.port));
            try (IdleClients idle = new IdleClients(keel.port, connections, "")) {
                long t0 = System.nanoTime();
                assertEchoes(keel.port);
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "echoed within a second");
                ResourceSnapshot holding = keel.snapshot();
                assertTrue(holding.fds() >= before.fds() + connections,
                        "the server holds the idle connections: " + holding.fds() + " descriptors");
                assertEquals(connections, idle.open());
            }
            assertEchoes(keel.port);
            assertBackTo(keel, before);
        }
    }

    @Test
    @Timeout(120)
    void shouldKeepKeelServeAliveAndQuietOutOfDescriptorsAndServeAgainWhenTheyAreFree() throws Exception {
        int limit = 200;
        Files.writeString(dir.resolve("ok.txt"), "still here\n");
        try (KeelProcess keel = KeelProcess.start(limit, Keel.class.getName(), "serve", "--root", dir.toString(),
                "--port", "0")) {
            ResourceSnapshot before = warmBaseline(keel, () -> assertServes(keel.port));
            List<Socket> flood = new ArrayList<>();
            try {
                // More connections than the child may open descriptors: accept4 fails with EMFILE.
                for (int i = 0; i < limit + 60; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", keel.port), 5000);
                    flood.add(s);
                }
                Thread.sleep(300);
                long cpu = keel.cpuTicks();
                long wall = System.nanoTime();
                Thread.sleep(1500);
                double share = (keel.cpuTicks() - cpu) * 10_000_000.0 / (System.nanoTime() - wall);
                assertTrue(share < 0.25, "keel serve out of descriptors used " + Math.round(share * 100)
                        + "% of a CPU; a loop spinning on its listener uses 100%");
                assertTrue(keel.process.isAlive(), "still running");
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
            assertServes(keel.port);
            assertBackTo(keel, before);
        }
    }

    @Test
    @Timeout(60)
    void shouldFallBackToEpollWhenAutoMeetsAKernelThatForbidsIoUring() throws Exception {
        try (KeelProcess keel = KeelProcess.start(0, NoUringKeel.class.getName(), "echo", "--port", "0",
                "--transport", "auto")) {
            assertTrue(keel.readyLine.endsWith("epoll)"), "ready line: " + keel.readyLine);
            assertEchoes(keel.port);
        }
        Files.writeString(dir.resolve("ok.txt"), "still here\n");
        try (KeelProcess keel = KeelProcess.start(0, NoUringKeel.class.getName(), "serve", "--root", dir.toString(),
                "--port", "0", "--transport", "auto")) {
            assertTrue(keel.readyLine.contains("(epoll, "), "ready line: " + keel.readyLine);
            assertServes(keel.port);
        }
    }

    /** Serves one round, waits for the process to settle, and takes its baseline. */
    private static ResourceSnapshot warmBaseline(KeelProcess keel, Check round) throws Exception {
        for (int i = 0; i < 3; i++) {
            round.run();
        }
        Thread.sleep(500);
        return keel.snapshot();
    }

    private static void assertBackTo(KeelProcess keel, ResourceSnapshot before) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> grown = keel.snapshot().growthSince(before, 0);
        while (!grown.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
            grown = keel.snapshot().growthSince(before, 0);
        }
        assertEquals(List.of(), grown, "keel's descriptors and threads, against " + before);
    }

    private static void assertServes(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /ok.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 200 ") && answer.endsWith("\r\n\r\nstill here\n"), answer);
        }
    }

    private static void assertEchoes(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            byte[] ping = "ping through the crowd".getBytes(StandardCharsets.US_ASCII);
            s.getOutputStream().write(ping);
            InputStream in = s.getInputStream();
            assertArrayEquals(ping, in.readNBytes(ping.length));
        }
    }

    @FunctionalInterface
    private interface Check {
        void run() throws Exception;
    }
}
