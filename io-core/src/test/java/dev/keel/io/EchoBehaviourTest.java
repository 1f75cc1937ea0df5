package dev.keel.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import dev.keel.io.testing.LoopAllocations;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * io-core behaviour over real loopback sockets, written once; each transport runs it through
 * a thin subclass.
 */
abstract class EchoBehaviourTest {
    private EventLoopGroup group;
    final Echo echo = new Echo();

    /** Transport-specific settings of the group under test. */
    EventLoopGroup.Builder configure(EventLoopGroup.Builder builder) {
        return builder.transport(transport());
    }

    /** The transport the configured group must run on. */
    abstract Transport transport();

    EventLoopGroup start(LoopOptions options, int loops) {
        group = configure(EventLoopGroup.builder().loops(loops).options(options).handler(echo)).start();
        assertEquals(transport(), group.transport(), "the group runs on the transport under test");
        for (EventLoop loop : group.loops()) {
            assertEquals(transport(), loop.transport());
        }
        return group;
    }

    /** Settings of every group of this suite; subclasses add transport options. */
    LoopOptions.Builder options() {
        return LoopOptions.builder();
    }

    @AfterEach
    void stopGroup() {
        if (group != null) {
            group.close();
        }
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    static <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> query) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(query.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    static Socket connect(EventLoopGroup g) throws IOException {
        Socket s = new Socket();
        s.connect(g.address(), 5000);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        return s;
    }

    static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "stream ended early");
        return b;
    }

    @Test
    @Timeout(120)
    void shouldEchoEveryByteToTwoHundredConcurrentClients() throws Exception {
        EventLoopGroup g = start(options().build(), 2);
        long verified;
        try {
            verified = EchoClients.run(g.address(), 200, 1024 * 1024, 16 * 1024, 42, 100_000);
        } catch (AssertionError | IOException e) {
            throw new AssertionError(e.getMessage() + "; the server closed connections for " + echo.closed, e);
        }
        assertEquals(200L * 1024 * 1024, verified);
        await("all 200 connections to close", () -> echo.closedTotal() == 200);
        assertEquals(200, echo.closedFor(CloseReason.PEER_CLOSED));
    }

    /**
     * A loop that slept in its blocking wait for longer than the idle timeout (no connection, no
     * timer: it waits without a limit) must start a connection accepted on waking with the time
     * of waking. It once used the clock read before the wait, so the new connection counted
     * as idle for the whole sleep and was closed as IDLE_TIMEOUT in the next pass, before its
     * first byte was read: an idle server dropped the first client after a quiet spell.
     */
    @Test
    @Timeout(30)
    void shouldServeAConnectionAcceptedAfterTheLoopSleptLongerThanTheIdleTimeout() throws Exception {
        EventLoopGroup g = start(options().idleTimeout(Duration.ofMillis(200)).build(), 1);
        Thread.sleep(1000); // the loop blocks in its wait: nothing to do, no timer
        try (Socket s = connect(g)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(new byte[] {42});
            assertEquals(42, s.getInputStream().read(), "the byte echoed, not the connection closed as idle");
        }
        await("the connection to close", () -> echo.closedTotal() == 1);
    }

    @Test
    @Timeout(30)
    void shouldStillEchoEveryByteAfterTheClientHalfCloses() throws Exception {
        EventLoopGroup g = start(options().build(), 1);
        byte[] payload = new byte[3 * 1024 * 1024];
        new Random(7).nextBytes(payload);
        try (Socket s = connect(g)) {
            CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            s.getOutputStream().write(payload);
            s.shutdownOutput();
            assertArrayEquals(payload, received.get(20, TimeUnit.SECONDS), "every byte after the half-close");
        }
        await("the half-closed connection to close", () -> echo.closedFor(CloseReason.PEER_CLOSED) == 1);
    }

    @Test
    @Timeout(30)
    void shouldCloseWithAReasonAndFreeTheSlotWhenThePeerResets() throws Exception {
        EventLoopGroup g = start(options().build(), 1);
        EventLoop loop = g.loops().get(0);
        for (int i = 0; i < 20; i++) {
            Socket s = connect(g);
            s.getOutputStream().write(new byte[64 * 1024]);
            s.setSoLinger(true, 0); // close sends RST, mid-stream
            s.close();
        }
        await("20 resets to close their connections", () -> echo.closedTotal() == 20);
        assertEquals(0, (int) onLoop(loop, loop::openConnections), "every slot is free again");
        assertEquals(0, (int) onLoop(loop, loop::buffersInUse), "every buffer is back in the pool");
        assertTrue(echo.closedFor(CloseReason.RESET) > 0, "resets are reported as RESET: " + echo.closed);
        try (Socket s = connect(g)) {
            s.getOutputStream().write("still here".getBytes());
            assertArrayEquals("still here".getBytes(), readFully(s.getInputStream(), 10));
        }
    }

    @Test
    @Timeout(60)
    void shouldBoundQueuedOutputForASlowReaderAndDeliverEverything() throws Exception {
        LoopOptions options = options().waterMarks(64 * 1024, 256 * 1024).build();
        EventLoopGroup g = start(options, 1);
        long total = 100L * 1024 * 1024;
        try (Socket s = connect(g)) {
            CompletableFuture<Long> writer = CompletableFuture.supplyAsync(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    OutputStream out = s.getOutputStream();
                    for (long sent = 0; sent < total; sent += chunk.length) {
                        for (int k = 0; k < chunk.length; k++) {
                            chunk[k] = EchoClients.patternByte(1, sent + k);
                        }
                        out.write(chunk);
                    }
                    return total;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            // Not reading: the server must stop reading instead of queueing 100 MB.
            await("reading to pause", () -> echo.maxPending.get() >= 256 * 1024);
            Thread.sleep(300);
            assertTrue(!writer.isDone(), "the writer is held back by TCP flow control");
            long bound = 256 * 1024 + 4L * options.readBufferBytes;
            assertTrue(echo.maxPending.get() <= bound,
                    "queued output " + echo.maxPending.get() + " stays under " + bound);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long received = 0;
            while (received < total) {
                int n = in.read(buf);
                assertTrue(n > 0, "stream ended at " + received);
                for (int k = 0; k < n; k++) {
                    if (buf[k] != EchoClients.patternByte(1, received + k)) {
                        throw new AssertionError("byte " + (received + k) + " differs");
                    }
                }
                received += n;
            }
            assertEquals(total, (long) writer.get(10, TimeUnit.SECONDS));
            assertTrue(echo.writable.get() > 0, "onWritable ran when the queue drained");
            assertTrue(echo.maxPending.get() <= bound, "queued output stayed bounded: " + echo.maxPending.get());
        }
    }

    @Test
    @Timeout(30)
    void shouldCloseIdleConnectionsAndLeaveActiveOnesAlone() throws Exception {
        // Margins for a busy machine: the active client may be descheduled for a good part of
        // the timeout without the test failing, and the idle one must outlast it clearly.
        LoopOptions options = options().idleTimeout(Duration.ofMillis(1000)).build();
        EventLoopGroup g = start(options, 1);
        try (Socket idle = connect(g); Socket active = connect(g)) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2200);
            while (System.nanoTime() < until) {
                active.getOutputStream().write('x');
                assertEquals('x', active.getInputStream().read());
                Thread.sleep(50);
            }
            assertEquals(-1, idle.getInputStream().read(), "the idle connection was closed");
            active.getOutputStream().write('y');
            assertEquals('y', active.getInputStream().read(), "the active connection still echoes");
            assertEquals(1, echo.closedFor(CloseReason.IDLE_TIMEOUT));
        }
    }

    /**
     * 64-byte messages take the copying paths; 16 KiB ones fill whole receive buffers, which
     * io_uring queues for sending by adopting them instead of copying.
     */
    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {64, 16 * 1024})
    @Timeout(150)
    void shouldAllocateNothingOnTheLoopThreadPerEchoRoundTrip(int size) throws Exception {
        EventLoopGroup g = start(options().build(), 1);
        int measured = size > 64 ? 20_000 : 100_000;
        try (Socket s = connect(g)) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] msg = new byte[size];
            byte[] back = new byte[size];
            LoopAllocations.assertNoneAllocated(g.loops().get(0).thread(), measured, "round trips",
                    i -> roundTrip(out, in, msg, back, i));
        }
    }

    private static void roundTrip(OutputStream out, InputStream in, byte[] msg, byte[] back, int i) throws IOException {
        msg[0] = (byte) i;
        msg[msg.length - 1] = (byte) (i >>> 8);
        out.write(msg);
        int got = 0;
        while (got < back.length) {
            int n = in.read(back, got, back.length - got);
            if (n < 0) {
                throw new IOException("closed");
            }
            got += n;
        }
        if (back[0] != msg[0] || back[msg.length - 1] != msg[msg.length - 1]) {
            throw new AssertionError("round trip " + i + " echoed other bytes");
        }
    }

    @Test
    @Timeout(180)
    void shouldReturnFdsAndBuffersAfterFiftyThousandConnectCloseCycles() throws Exception {
        EventLoopGroup g = start(options().build(), 1);
        EventLoop loop = g.loops().get(0);
        try (Socket warm = connect(g)) {
            warm.getOutputStream().write(1);
            assertEquals(1, warm.getInputStream().read());
        }
        await("warm-up connection to close", () -> echo.closedTotal() == 1);
        long fdsBefore = openFds();
        int cycles = 50_000;
        for (int i = 0; i < cycles; i++) {
            try (Socket s = new Socket()) {
                s.connect(g.address(), 5000);
                if (i % 8 == 0) {
                    s.getOutputStream().write(7);
                    assertEquals(7, s.getInputStream().read());
                }
                s.setSoLinger(true, 0); // RST: no TIME_WAIT pile-up on the client side
            }
        }
        await("all connections to close", () -> echo.closedTotal() == cycles + 1);
        assertEquals(0, (int) onLoop(loop, loop::openConnections));
        assertEquals(0, (int) onLoop(loop, loop::buffersInUse));
        assertEquals(fdsBefore, openFds(), "open descriptors of the process");
        assertEquals(cycles + 1, loop.stats().accepted());
    }

    static long openFds() throws IOException {
        try (var list = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return list.count();
        }
    }

    @Test
    @Timeout(30)
    void shouldFailClearlyWhenAStaleHandleWritesAfterItsSlotIsReused() throws Exception {
        CompletableFuture<Connection> first = new CompletableFuture<>();
        CompletableFuture<Connection> second = new CompletableFuture<>();
        Echo handler = new Echo() {
            @Override
            public void onOpen(Connection c) {
                if (!first.isDone()) {
                    first.complete(c);
                } else {
                    second.complete(c);
                }
            }
        };
        group = configure(EventLoopGroup.builder().options(options().maxConnections(1).build()).handler(handler))
                .start();
        EventLoop loop = group.loops().get(0);
        try (Socket a = connect(group)) {
            Connection stale = first.get(10, TimeUnit.SECONDS);
            a.close();
            // onClose says the slot is free again (a completion transport frees it only once the
            // kernel has answered every request on it, a little after isOpen() turned false).
            await("the first connection to close", () -> !stale.isOpen() && handler.closedTotal() == 1);
            try (Socket b = connect(group)) {
                Connection fresh = second.get(10, TimeUnit.SECONDS);
                assertEquals(stale.slot(), fresh.slot(), "the only slot was reused");
                assertTrue(fresh.isOpen());
                CompletableFuture<Throwable> failure = new CompletableFuture<>();
                loop.execute(() -> {
                    try {
                        stale.write(java.lang.foreign.MemorySegment.ofArray(new byte[1]));
                        failure.complete(null);
                    } catch (Throwable t) {
                        failure.complete(t);
                    }
                });
                Throwable t = failure.get(10, TimeUnit.SECONDS);
                assertTrue(t instanceof StaleHandleException, "stale write fails with StaleHandleException: " + t);
                assertTrue(t.getMessage().contains("is closed"), t.getMessage());
                b.getOutputStream().write("ok".getBytes());
                assertArrayEquals("ok".getBytes(), readFully(b.getInputStream(), 2), "the new connection is untouched");
            }
        }
    }

    @Test
    @Timeout(30)
    void shouldRefuseAPortInUseWithTheErrnoNamed() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            long fdsBefore = openFds();
            var e = assertThrows(dev.keel.ffm.SyscallException.class, () ->
                    configure(EventLoopGroup.builder().port(taken.getLocalPort()).options(options().build())
                            .handler(echo)).start());
            assertEquals("EADDRINUSE", e.errnoName());
            assertEquals(fdsBefore, openFds(), "a failed start leaves no descriptor open");
        }
    }

    @Test
    @Timeout(60)
    void shouldStartAndStopManyTimesWithoutLeakingDescriptorsOrMemory() throws Exception {
        long fdsBefore = 0;
        long mappedBefore = 0;
        for (int i = 0; i < 20; i++) {
            if (i == 2) {
                // After the first cycles the JVM has opened the jars and made the mappings it opens on first use.
                fdsBefore = openFds();
                mappedBefore = vmSizeKiB();
            }
            EventLoopGroup g = configure(EventLoopGroup.builder().loops(2).options(options().build()).handler(echo))
                    .start();
            try (Socket s = connect(g)) {
                s.getOutputStream().write(9);
                assertEquals(9, s.getInputStream().read());
                g.close();
                assertEquals(-1, s.getInputStream().read(), "shutdown closes open connections");
            } catch (SocketException reset) {
                // a close racing the read may surface as a reset: the connection is gone either way
            }
        }
        assertEquals(fdsBefore, openFds(), "descriptors after 18 more start/stop cycles");
        long poolKiB = options().build().poolBytes() / 1024;
        long grownKiB = vmSizeKiB() - mappedBefore;
        assertTrue(grownKiB < poolKiB, "address space grew " + grownKiB + " KiB over 18 cycles of 2 loops; "
                + "one loop's pool alone maps " + poolKiB + " KiB, so no pool or table was left mapped");
    }

    static long vmSizeKiB() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }

    @Test
    @Timeout(30)
    void shouldRunTasksAndTimersOnTheLoopThread() throws Exception {
        EventLoopGroup g = start(options().build(), 1);
        EventLoop loop = g.loops().get(0);
        CompletableFuture<String> ran = new CompletableFuture<>();
        long t0 = System.nanoTime();
        loop.execute(() -> loop.schedule(Duration.ofMillis(50), () -> ran.complete(Thread.currentThread().getName())));
        assertEquals(loop.thread().getName(), ran.get(10, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(50), "a timer never fires early");
        CompletableFuture<Boolean> cancelled = new CompletableFuture<>();
        loop.execute(() -> {
            long id = loop.schedule(Duration.ofMillis(20), () -> cancelled.complete(false));
            loop.cancelTimer(id);
            loop.schedule(Duration.ofMillis(100), () -> cancelled.complete(true));
        });
        assertTrue(cancelled.get(10, TimeUnit.SECONDS), "a cancelled timer does not run");
        assertThrows(IllegalStateException.class, () -> loop.schedule(Duration.ofMillis(1), () -> { }),
                "schedule outside the loop thread is refused");
    }

    @Test
    @Timeout(30)
    void shouldRunEachLoopOnTheCpuItWasGivenWithItsMemoryOnThatNode() throws Exception {
        int cpus = Runtime.getRuntime().availableProcessors();
        for (int cpu = 0; cpu < Math.min(cpus, 2); cpu++) {
            try (EventLoopGroup g = configure(EventLoopGroup.builder().cpus(cpu).handler(echo)).start()) {
                EventLoop loop = g.loops().get(0);
                assertEquals(cpu, loop.cpu(), "the CPU read back after pinning");
                assertEquals(cpu, (int) onLoop(loop, dev.keel.ffm.Sched::getcpu), "sched_getcpu on the loop");
                int tid = onLoop(loop, dev.keel.ffm.Sched::gettid);
                String status = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/task/" + tid + "/status"));
                assertTrue(status.contains("Cpus_allowed_list:\t" + cpu + "\n"), "the kernel's view of the loop thread");
                assertEquals(0, loop.node(), "pool and table bound to the CPU's node and verified");
            }
        }
    }

    @Test
    @Timeout(30)
    void shouldPlaceLoopsByTheCorePlanUnlessToldToRunUnpinned() throws Exception {
        try (EventLoopGroup planned = configure(EventLoopGroup.builder().handler(echo)).start()) {
            assertEquals(dev.keel.affinity.CorePlan.forLoops(1).cpu(0), planned.cpus()[0]);
        }
        try (EventLoopGroup free = configure(EventLoopGroup.builder().unpinned().handler(echo)).start()) {
            assertTrue(Arrays.stream(free.cpus()).allMatch(c -> c == -1), "unpinned loops report -1");
            assertEquals(-1, free.loops().get(0).node());
        }
    }

    @Test
    @Timeout(30)
    void shouldCallOnWritableWhenAskedAndTheSocketCanTakeMore() throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        group = configure(EventLoopGroup.builder().options(options().build()).handler(new ConnectionHandler() {
            @Override
            public void onData(Connection c, java.lang.foreign.MemorySegment data) {
                c.notifyWhenWritable();
            }

            @Override
            public void onWritable(Connection c) {
                if (calls.incrementAndGet() == 1) {
                    c.write(java.lang.foreign.MemorySegment.ofArray("writable".getBytes()));
                }
            }
        })).start();
        try (Socket s = connect(group)) {
            s.getOutputStream().write('?');
            assertArrayEquals("writable".getBytes(), readFully(s.getInputStream(), 8));
            Thread.sleep(100);
            assertEquals(1, calls.get(), "one request, one notification");
        }
    }
}
