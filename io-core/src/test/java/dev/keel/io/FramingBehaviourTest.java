package dev.keel.io;

import dev.keel.io.codec.DelimiterFramer;
import dev.keel.io.codec.FrameHandler;
import dev.keel.io.codec.LengthFieldFramer;
import dev.keel.io.testing.LoopAllocations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Inbound framing over real loopback sockets, written once and run on each transport: frames
 * cut at every byte boundary (each part delivered, and seen kept, before the next is sent),
 * frames larger than the read buffer, oversized frames and lines closing with their reason,
 * and no heap allocation per message on a client's loop thread.
 */
abstract class FramingBehaviourTest {
    private final List<EventLoopGroup> groups = new ArrayList<>();

    abstract Transport transport();

    /** Small read and receive buffers, so that frames outgrow them. */
    LoopOptions.Builder options() {
        return LoopOptions.builder().maxConnections(256).readBufferBytes(4096).providedBuffers(4096, 256);
    }

    EventLoopGroup server(ConnectionHandler handler) {
        EventLoopGroup g = EventLoopGroup.builder().transport(transport()).unpinned().noReservations()
                .options(options().build()).host(InetAddress.getLoopbackAddress()).handler(handler).start();
        groups.add(g);
        return g;
    }

    @AfterEach
    void stop() throws Exception {
        try {
            for (EventLoopGroup g : groups) {
                for (EventLoop loop : g.loops()) {
                    await("loop " + loop.index() + " to hold nothing", () -> {
                        try {
                            return onLoop(loop, () -> loop.openConnections() == 0 && loop.buffersInUse() == 0);
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    });
                }
            }
        } finally {
            for (EventLoopGroup g : groups) {
                g.close();
            }
        }
    }

    /** Echoes each frame back with its header; remembers its connection and how it closed. */
    static final class FrameEcho implements FrameHandler {
        final AtomicReference<Connection> connection = new AtomicReference<>();
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        final List<byte[]> frames = java.util.Collections.synchronizedList(new ArrayList<>());
        final int header;

        FrameEcho(int header) {
            this.header = header;
        }

        @Override
        public void onOpen(Connection c) {
            connection.set(c);
        }

        @Override
        public void onFrame(Connection c, MemorySegment data, long offset, long length) {
            frames.add(data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE));
            c.write(data.asSlice(offset - header, length + header));
        }

        @Override
        public void onClose(Connection c, CloseReason reason) {
            closed.complete(reason);
        }
    }

    static byte[] frame(int bodyLength, int seed) {
        byte[] f = new byte[2 + bodyLength];
        ByteBuffer.wrap(f).order(ByteOrder.BIG_ENDIAN).putShort((short) bodyLength);
        for (int i = 0; i < bodyLength; i++) {
            f[2 + i] = (byte) (seed * 31 + i);
        }
        return f;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    @Timeout(120)
    void shouldCutFramesSplitAtEveryByteBoundary() throws Exception {
        FrameEcho echo = new FrameEcho(2);
        EventLoopGroup g = server(LengthFieldFramer.builder().lengthBytes(2).build(echo));
        byte[][] frames = {frame(10, 1), frame(0, 2), frame(25, 3)};
        byte[] stream = concat(frames);
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            await("the server's onOpen", () -> echo.connection.get() != null);
            Connection c = echo.connection.get();
            EventLoop loop = g.loops().get(0);
            for (int k = 1; k < stream.length; k++) {
                echo.frames.clear();
                out.write(stream, 0, k);
                out.flush();
                int whole = 0;
                int wholeFrames = 0;
                for (byte[] f : frames) {
                    if (whole + f.length > k) {
                        break;
                    }
                    whole += f.length;
                    wholeFrames++;
                }
                int expectKept = k - whole;
                int expectFrames = wholeFrames;
                await("split at " + k + ": " + expectFrames + " frames cut, " + expectKept + " bytes kept", () -> {
                    try {
                        return echo.frames.size() == expectFrames && onLoop(loop, () -> loop.keptBytes(c)) == expectKept;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                out.write(stream, k, stream.length - k);
                out.flush();
                assertArrayEquals(stream, in.readNBytes(stream.length), "split at " + k + ": every frame echoed");
                await("split at " + k + ": all frames", () -> echo.frames.size() == frames.length);
                for (int f = 0; f < frames.length; f++) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(frames[f], 2, frames[f].length), echo.frames.get(f));
                }
                assertEquals(0, (int) onLoop(loop, () -> loop.keptBytes(c)), "nothing kept once the frames are whole");
            }
        }
        assertEquals(CloseReason.PEER_CLOSED, echo.closed.get(20, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(120)
    void shouldCutFramesLargerThanTheReadBuffer() throws Exception {
        FrameEcho echo = new FrameEcho(4);
        EventLoopGroup g = server(LengthFieldFramer.builder().lengthBytes(4).order(ByteOrder.LITTLE_ENDIAN)
                .maxFrameBytes(60_000).build(echo));
        Random random = new Random(11);
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setSoTimeout(20_000);
            for (int size : new int[] {4096, 40_000, 60_000, 1, 17_000}) {
                byte[] f = new byte[4 + size];
                ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(size);
                for (int i = 4; i < f.length; i++) {
                    f[i] = (byte) random.nextInt();
                }
                CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                    try {
                        return s.getInputStream().readNBytes(f.length);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                s.getOutputStream().write(f);
                assertArrayEquals(f, back.get(20, TimeUnit.SECONDS), size + "-byte frame echoed whole");
            }
        }
        assertEquals(CloseReason.PEER_CLOSED, echo.closed.get(20, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(60)
    void shouldCloseWithItsReasonOnAnOversizedFrame() throws Exception {
        FrameEcho echo = new FrameEcho(2);
        EventLoopGroup g = server(LengthFieldFramer.builder().lengthBytes(2).maxFrameBytes(1000).build(echo));
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(frame(1001, 4), 0, 50); // the header is enough to refuse it
            assertEquals(CloseReason.FRAME_TOO_LARGE, echo.closed.get(20, TimeUnit.SECONDS));
            assertEquals(-1, readOrReset(s.getInputStream()), "the connection is gone");
        }
    }

    @Test
    @Timeout(60)
    void shouldCloseWhenAFrameOutgrowsWhatTheLoopCanKeep() throws Exception {
        FrameEcho echo = new FrameEcho(4);
        // The framer would take 1 MB; the loop keeps at most its largest pool buffer (64 KiB).
        EventLoopGroup g = server(LengthFieldFramer.builder().lengthBytes(4).maxFrameBytes(1 << 20).build(echo));
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setSoTimeout(10_000);
            byte[] f = new byte[4 + 100_000];
            ByteBuffer.wrap(f).putInt(100_000);
            try {
                s.getOutputStream().write(f);
            } catch (IOException reset) {
                // the server may close before every byte is written
            }
            assertEquals(CloseReason.FRAME_TOO_LARGE, echo.closed.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void shouldCutLinesAndCloseOnALineTooLong() throws Exception {
        List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        FrameHandler h = new FrameHandler() {
            @Override
            public void onFrame(Connection c, MemorySegment data, long offset, long length) {
                lines.add(new String(data.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE)));
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                closed.complete(reason);
            }
        };
        EventLoopGroup g = server(new DelimiterFramer("\r\n".getBytes(), 16, h));
        try (Socket s = new Socket()) {
            s.connect(g.address(), 5000);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            for (byte b : "one\r\ntwo\r".getBytes()) {
                out.write(b);
                out.flush();
            }
            out.write("\n\r\nsixteen-bytes-x\r\n".getBytes());
            await("four lines", () -> lines.size() == 4);
            assertEquals(List.of("one", "two", "", "sixteen-bytes-x"), List.copyOf(lines));
            out.write("seventeen-bytes-x".getBytes());
            out.write("no end in sight".getBytes());
            assertEquals(CloseReason.FRAME_TOO_LARGE, closed.get(20, TimeUnit.SECONDS));
        }
    }

    static int readOrReset(InputStream in) {
        try {
            return in.read();
        } catch (IOException reset) {
            return -1;
        }
    }

    /**
     * A client of a keel group talks to an echo server in frames: each round trip writes one
     * frame from an off-heap buffer and cuts the echo with a framer, on the client's loop,
     * which allocates nothing for it.
     */
    @Test
    @Timeout(180)
    void shouldAllocateNothingOnTheClientLoopPerFramedRoundTrip() throws Exception {
        EventLoopGroup server = server(new Echo());
        EventLoopGroup clients = EventLoopGroup.builder().transport(transport()).unpinned().noReservations()
                .options(options().build()).withoutListener().start();
        groups.add(clients);
        PingPong client = new PingPong();
        LengthFieldFramer framer = LengthFieldFramer.builder().lengthBytes(4).build(client);
        clients.connect(server.address(), framer, ConnectOptions.defaults());
        Connection c = client.opened.get(20, TimeUnit.SECONDS);
        LoopAllocations.assertNoneAllocated(c.loop().thread(), 20_000, "framed round trips on the client",
                i -> client.roundTrip());
        onLoop(c.loop(), () -> {
            c.close();
            return null;
        });
        assertEquals(0, client.mismatches);
    }

    /** Sends one 4-byte-length frame when kicked and checks its echo; allocation-free. */
    static final class PingPong implements FrameHandler {
        static final int BODY = 60;
        final CompletableFuture<Connection> opened = new CompletableFuture<>();
        final MemorySegment out = Arena.ofAuto().allocate(4 + BODY);
        final Runnable kick = this::send;
        Connection connection;
        volatile long answered;
        long sent;
        int mismatches;

        @Override
        public void onOpen(Connection c) {
            connection = c;
            out.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0, BODY);
            opened.complete(c);
        }

        private void send() {
            sent++;
            out.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, sent);
            connection.write(out);
        }

        @Override
        public void onFrame(Connection c, MemorySegment data, long offset, long length) {
            if (length != BODY || data.get(ValueLayout.JAVA_LONG_UNALIGNED, offset) != sent) {
                mismatches++;
            }
            answered = sent;
        }

        void roundTrip() {
            long want = answered + 1;
            connection.loop().execute(kick);
            while (answered < want) {
                Thread.onSpinWait();
            }
        }
    }
}
