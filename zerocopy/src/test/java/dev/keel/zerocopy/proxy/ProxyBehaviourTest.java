package dev.keel.zerocopy.proxy;

import dev.keel.io.Transport;
import dev.keel.io.stats.LoopStatsSnapshot;
import dev.keel.io.testing.PrometheusTextCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.keel.zerocopy.proxy.ProxyFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy between real loopback clients and a real upstream server (java.net), written once
 * and run on each transport: every byte checked both ways for many clients at once and over
 * IPv6, half-closes, either side closing or resetting first, upstream refusals and connect
 * timeouts (the client reset, the reason counted), idle sessions closed, and after each test
 * nothing left open ({@link ProxyFixture}). Back-pressure and the allocation check are in
 * {@link ProxyFlowTest}.
 */
@Timeout(120)
abstract class ProxyBehaviourTest {
    ProxyFixture f;

    abstract Transport transport();

    @BeforeEach
    void start() throws Exception {
        f = new ProxyFixture(transport(), InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    @Test
    void shouldCarryEveryByteBothWaysForManyConcurrentClients() throws Exception {
        List<String> reachedUpstream = Collections.synchronizedList(new ArrayList<>());
        f.upstreamDoes(s -> {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
            reachedUpstream.add(Arrays.toString(sha.digest()));
        });
        TcpProxy proxy = f.proxy(b -> b.loops(2));
        int clients = 24;
        List<Future<String>> sent = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int seed = c;
            sent.add(f.threads.submit(() -> echoThroughProxy(seed, (1 << 20) * (1 + seed % 2))));
        }
        List<String> expected = new ArrayList<>();
        for (Future<String> s : sent) {
            expected.add(s.get(90, TimeUnit.SECONDS));
        }
        await("the upstream to see every stream end", () -> reachedUpstream.size() == clients);
        assertEquals(expected.stream().sorted().toList(), reachedUpstream.stream().sorted().toList(),
                "what reached the upstream");
        ProxyStats total = proxy.totalStats();
        assertEquals(clients, total.sessionsOpened());
        assertEquals(0, total.upstreamFailures());
        assertEquals(0, total.resetsPassed());
        LoopStatsSnapshot loops = proxy.group().totalStats();
        assertEquals(clients, loops.connectsAttempted());
        assertEquals(clients, loops.connectsSucceeded());
    }

    /** Sends {@code size} random bytes and a FIN, checks the echo, returns the bytes' digest. */
    private String echoThroughProxy(int seed, int size) throws Exception {
        byte[] payload = new byte[size];
        new Random(seed).nextBytes(payload);
        try (Socket s = f.client()) {
            Future<byte[]> echoed = f.threads.submit(() -> s.getInputStream().readAllBytes());
            OutputStream out = s.getOutputStream();
            for (int off = 0; off < size; off += 100_000) {
                out.write(payload, off, Math.min(100_000, size - off));
            }
            s.shutdownOutput(); // a half-close the proxy must pass on for the echo to end
            byte[] back = echoed.get(60, TimeUnit.SECONDS);
            assertEquals(size, back.length, "echo length of client " + seed);
            assertTrue(Arrays.equals(payload, back), "echo of client " + seed + " differs at "
                    + Arrays.mismatch(payload, back));
        }
        return Arrays.toString(MessageDigest.getInstance("SHA-256").digest(payload));
    }

    @Test
    void shouldCarryEveryByteOverIpv6() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        Assumptions.assumeTrue(ipv6Works(v6), "no IPv6 loopback here");
        try (ServerSocket up6 = new ServerSocket(0, 16, v6)) {
            Future<?> served = f.threads.submit(() -> {
                for (int i = 0; i < 3; i++) {
                    try (Socket s = up6.accept()) {
                        ProxyFixture.ECHO.handle(s);
                    }
                }
                return null;
            });
            TcpProxy proxy = f.proxy(b -> b.host(v6).upstream((InetSocketAddress) up6.getLocalSocketAddress()));
            assertTrue(proxy.address().getAddress() instanceof java.net.Inet6Address);
            List<Future<String>> clients = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                int seed = c;
                clients.add(f.threads.submit(() -> echoThroughProxy(seed, 512 * 1024)));
            }
            for (Future<String> c : clients) {
                c.get(60, TimeUnit.SECONDS);
            }
            served.get(30, TimeUnit.SECONDS);
        }
    }

    static boolean ipv6Works(InetAddress v6) {
        try (ServerSocket s = new ServerSocket(0, 1, v6)) {
            return s.getLocalPort() > 0;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void shouldPassHalfClosesThroughInBothDirections() throws Exception {
        f.upstreamDoes(s -> {
            byte[] request = s.getInputStream().readAllBytes(); // ends only if the client's FIN came through
            OutputStream out = s.getOutputStream();
            out.write(("got " + request.length + " bytes; ").getBytes());
            out.write("and more after your FIN".getBytes());
            s.shutdownOutput();
        });
        f.proxy();
        try (Socket s = f.client()) {
            s.getOutputStream().write(new byte[12345]);
            s.shutdownOutput();
            assertEquals("got 12345 bytes; and more after your FIN", new String(s.getInputStream().readAllBytes()));
        }
    }

    @Test
    void shouldEndTheClientsStreamWhenTheUpstreamClosesFirst() throws Exception {
        f.upstreamDoes(s -> {
            s.getInputStream().read();
            s.getOutputStream().write("bye".getBytes());
            // closed here: a FIN after "bye"
        });
        TcpProxy proxy = f.proxy();
        try (Socket s = f.client()) {
            s.getOutputStream().write('x');
            assertEquals("bye", new String(s.getInputStream().readAllBytes()), "the bytes, then the end of stream");
        }
        f.assertNothingHeld();
        assertEquals(0, proxy.totalStats().resetsPassed());
    }

    @Test
    void shouldEndTheUpstreamsStreamWhenTheClientClosesFirst() throws Exception {
        CompletableFuture<String> upstreamRead = new CompletableFuture<>();
        f.upstreamDoes(s -> upstreamRead.complete(new String(s.getInputStream().readAllBytes())));
        f.proxy();
        try (Socket s = f.client()) {
            s.getOutputStream().write("last words".getBytes());
        }
        assertEquals("last words", upstreamRead.get(30, TimeUnit.SECONDS), "the bytes, then the end of stream");
    }

    @Test
    void shouldPassAResetFromTheUpstreamToTheClient() throws Exception {
        f.upstreamDoes(s -> {
            s.getInputStream().read();
            s.setSoLinger(true, 0); // close with RST
        });
        TcpProxy proxy = f.proxy();
        try (Socket s = f.client()) {
            s.getOutputStream().write(1);
            SocketException e = assertThrows(SocketException.class, () -> drain(s.getInputStream()));
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
        }
        await("the reset to be counted", () -> proxy.totalStats().resetsPassed() == 1);
    }

    @Test
    void shouldPassAResetFromTheClientToTheUpstream() throws Exception {
        CompletableFuture<Throwable> upstreamSaw = new CompletableFuture<>();
        f.upstreamDoes(s -> {
            try {
                s.getOutputStream().write(1);
                drain(s.getInputStream());
                upstreamSaw.complete(null);
            } catch (IOException e) {
                upstreamSaw.complete(e);
            }
        });
        f.proxy();
        try (Socket s = f.client()) {
            assertEquals(1, s.getInputStream().read(), "the session is up");
            s.setSoLinger(true, 0);
        }
        Throwable seen = upstreamSaw.get(30, TimeUnit.SECONDS);
        assertTrue(seen instanceof SocketException && seen.getMessage().contains("reset"), String.valueOf(seen));
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[8192];
        while (in.read(buf) >= 0) {
            // until the end of the stream or the reset
        }
    }

    @Test
    void shouldResetTheClientWhenTheUpstreamRefusesAndCountIt() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = (InetSocketAddress) gone.getLocalSocketAddress();
        }
        TcpProxy refused = f.proxy(b -> b.upstream(nobody));
        int clients = 20;
        for (int i = 0; i < clients; i++) {
            // The proxy resets the client once its connect is refused: seen as a reset (at
            // connect or read, depending on timing) or, at worst, an end of stream.
            try (Socket s = f.client()) {
                assertEquals(-1, s.getInputStream().read());
            } catch (SocketException reset) {
                assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
            }
        }
        await("every refusal counted", () -> refused.totalStats().upstreamRefused() == clients);
        assertEquals(clients, refused.totalStats().upstreamFailures());
        LoopStatsSnapshot loops = refused.group().totalStats();
        assertEquals(clients, loops.connectsFailed());
        assertEquals(0, loops.connectsSucceeded());
        Map<String, Double> samples = PrometheusTextCheck.parse(ProxyStats.prometheusText(refused.stats()));
        assertEquals(clients, samples.get("keel_proxy_upstream_failures_total{loop=\"0\",reason=\"refused\"}"));
        assertEquals(0.0, samples.get("keel_proxy_upstream_failures_total{loop=\"0\",reason=\"timeout\"}"));
    }

    @Test
    void shouldResetTheClientWhenTheUpstreamConnectTimesOut() throws Exception {
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // Never accepted: backlog 1 holds two connections; SYNs after that are dropped.
            List<SocketChannel> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    SocketChannel ch = SocketChannel.open();
                    ch.configureBlocking(false);
                    ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                    ch.connect(full.getLocalSocketAddress());
                    fillers.add(ch);
                }
                TcpProxy proxy = f.proxy(b -> b.upstream((InetSocketAddress) full.getLocalSocketAddress())
                        .connectTimeout(Duration.ofMillis(300)));
                try (Socket s = f.client()) {
                    assertEquals(-1, s.getInputStream().read());
                } catch (SocketException reset) {
                    assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
                }
                await("the timeout counted", () -> proxy.totalStats().upstreamTimedOut() == 1);
                f.assertNothingHeld(); // while the fillers still hold their descriptors
            } finally {
                for (SocketChannel ch : fillers) {
                    ch.close();
                }
            }
        }
    }

    @Test
    void shouldCloseIdleSessionsAndLeaveActiveOnesAlone() throws Exception {
        // Margins for a busy machine: the active client may be descheduled for part of the
        // timeout without the test failing, and the idle one must outlast it clearly.
        TcpProxy proxy = f.proxy(b -> b.options(TcpProxy.loopOptions().idleTimeout(Duration.ofMillis(1000)).build()));
        try (Socket idle = f.client(); Socket active = f.client()) {
            idle.getOutputStream().write('i');
            assertEquals('i', idle.getInputStream().read());
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2200);
            while (System.nanoTime() < until) {
                active.getOutputStream().write('x');
                assertEquals('x', active.getInputStream().read());
                Thread.sleep(50);
            }
            assertEquals(-1, idle.getInputStream().read(), "the idle session was closed");
            active.getOutputStream().write('y');
            assertEquals('y', active.getInputStream().read(), "the active session still forwards");
        }
        assertTrue(proxy.group().totalStats().idleTimeouts() >= 1);
        assertEquals(0, proxy.totalStats().resetsPassed(), "an idle close is passed on as a close");
    }

    @Test
    void shouldAcceptOnlyAResolvedUpstream() {
        assertThrows(IllegalArgumentException.class,
                () -> TcpProxy.builder().upstream(InetSocketAddress.createUnresolved("example.invalid", 80)));
        assertThrows(NullPointerException.class, () -> TcpProxy.builder().start());
    }
}
