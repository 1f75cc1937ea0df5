package dev.keel.io;

import dev.keel.ffm.Files;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Connection#writeFile} on the real kernel, real files and real sockets: a file region
 * goes after the bytes written before it and before those written after, to a reader slow
 * enough that the transport must stop and go on many times; a peer that resets mid-body ends
 * the connection (onClose, no onFileSent); a file truncated while it is sent is reported
 * ({@link Connection#FILE_TRUNCATED}) and the connection closed — an error, not a hang. Each
 * transport's subclass also shows that its own machinery carried the bytes.
 */
abstract class FileRegionWriteBehaviourTest {
    private static final byte[] BEFORE = "before\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEAD = "head\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] AFTER = "after\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    private EventLoopGroup group;
    private int fileFd = -1;

    abstract Transport transport();

    /** Asserts, on the loop thread, that the transport's own path carried the file's bytes. */
    abstract void assertCarriedByTransport(EventLoop loop) throws Exception;

    @AfterEach
    void stop() {
        if (group != null) {
            group.close(); // onClose has run for every connection: the file is no longer read
        }
        if (fileFd >= 0) {
            Files.close(fileFd);
        }
    }

    /** On the first bytes in: {@link #BEFORE}, then {@link #HEAD} and the region, then {@link #AFTER}. */
    private final class Sender implements ConnectionHandler {
        final CompletableFuture<Integer> fileSent = new CompletableFuture<>();
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        final long offset;
        final long length;
        boolean started;

        Sender(long offset, long length) {
            this.offset = offset;
            this.length = length;
        }

        @Override
        public void onData(Connection c, MemorySegment data) {
            if (started) {
                return;
            }
            started = true;
            c.write(MemorySegment.ofArray(BEFORE));
            c.writeFile(MemorySegment.ofArray(HEAD), fileFd, offset, length);
            if (c.isOpen() && !fileSent.isDone()) {
                IllegalStateException second = assertThrows(IllegalStateException.class,
                        () -> c.writeFile(MemorySegment.NULL, fileFd, 0, 1));
                assertTrue(second.getMessage().contains("in progress"), second.getMessage());
            }
            if (c.isOpen()) {
                c.write(MemorySegment.ofArray(AFTER)); // waits behind the region
            }
        }

        @Override
        public void onFileSent(Connection c, int error) {
            fileSent.complete(error);
            if (error == 0) {
                c.close(); // after AFTER: a graceful close waits for the queue
            }
        }

        @Override
        public void onClose(Connection c, CloseReason reason) {
            closed.complete(reason);
        }
    }

    private byte[] file(int size) throws IOException {
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        Path p = dir.resolve("region.bin");
        java.nio.file.Files.write(p, content);
        fileFd = Files.open(p.toString(), O_RDONLY | O_CLOEXEC, 0);
        return content;
    }

    private EventLoop start(ConnectionHandler handler) {
        group = EventLoopGroup.builder().unpinned().transport(transport()).handler(handler).start();
        return group.loops().get(0);
    }

    @Test
    @Timeout(60)
    void shouldSendTheRegionInOrderWithTheQueuedBytesToASlowReader() throws Exception {
        byte[] content = file(12 * 1024 * 1024 + 4321);
        long offset = 1000;
        long length = content.length - 2000;
        Sender sender = new Sender(offset, length);
        EventLoop loop = start(sender);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (Socket s = connect(group)) {
            s.setReceiveBufferSize(16 * 1024);
            s.getOutputStream().write('x');
            InputStream in = s.getInputStream();
            byte[] small = new byte[4096];
            // Slowly at first: the socket fills, the transport stops part-way and goes on many times.
            for (int i = 0; i < 200; i++) {
                int n = in.read(small);
                if (n < 0) {
                    break;
                }
                got.write(small, 0, n);
                if (i % 20 == 0) {
                    Thread.sleep(20);
                }
            }
            got.write(in.readAllBytes());
        }
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(BEFORE);
        expected.write(HEAD);
        expected.write(content, (int) offset, (int) length);
        expected.write(AFTER);
        byte[] want = expected.toByteArray();
        byte[] have = got.toByteArray();
        assertEquals(want.length, have.length, "bytes received");
        assertArrayEquals(want, have, "before, head, the region, after: in that order");
        assertEquals(0, sender.fileSent.get(10, TimeUnit.SECONDS), "onFileSent: sent");
        assertEquals(CloseReason.LOCAL, sender.closed.get(10, TimeUnit.SECONDS));
        assertEquals(length, (long) onLoop(loop, () -> loop.stats().fileBytesOut()), "file bytes counted");
        assertEquals(1L, (long) onLoop(loop, () -> loop.stats().filesSent()));
        assertCarriedByTransport(loop);
    }

    @Test
    @Timeout(60)
    void shouldEndWithTheConnectionWhenThePeerResetsMidBody() throws Exception {
        byte[] content = file(32 * 1024 * 1024);
        Sender sender = new Sender(0, content.length);
        EventLoop loop = start(sender);
        try (Socket s = connect(group)) {
            s.setReceiveBufferSize(16 * 1024);
            s.getOutputStream().write('x');
            byte[] first = s.getInputStream().readNBytes(BEFORE.length + HEAD.length + 100_000);
            assertEquals(BEFORE.length + HEAD.length + 100_000, first.length);
            assertArrayEquals(Arrays.copyOf(content, 100_000),
                    Arrays.copyOfRange(first, BEFORE.length + HEAD.length, first.length));
            s.setSoLinger(true, 0); // reset, the body half sent
        }
        assertEquals(CloseReason.RESET, sender.closed.get(20, TimeUnit.SECONDS), "the reset closes the connection");
        assertFalse(sender.fileSent.isDone(), "a region cut short by the close is ended by onClose alone");
        assertEquals(0L, (long) onLoop(loop, () -> loop.stats().openConnections()) , "nothing left open");
    }

    @Test
    @Timeout(60)
    void shouldReportAFileTruncatedWhileItIsSentAndClose() throws Exception {
        byte[] content = file(64 * 1024 * 1024);
        Sender sender = new Sender(0, content.length);
        start(sender);
        long received;
        try (Socket s = connect(group)) {
            s.setReceiveBufferSize(16 * 1024);
            s.getOutputStream().write('x');
            InputStream in = s.getInputStream();
            byte[] first = in.readNBytes(1024 * 1024);
            assertEquals(1024 * 1024, first.length);
            try (RandomAccessFile f = new RandomAccessFile(dir.resolve("region.bin").toFile(), "rw")) {
                f.setLength(0);
            }
            received = first.length + drain(in);
        }
        assertEquals(Connection.FILE_TRUNCATED, sender.fileSent.get(20, TimeUnit.SECONDS),
                "onFileSent reports the truncation");
        assertEquals(CloseReason.ERROR, sender.closed.get(20, TimeUnit.SECONDS), "then the loop closes the connection");
        assertTrue(received < BEFORE.length + HEAD.length + content.length,
                "the body stopped short of the promised length: " + received);
    }

    /** Bytes until the server closes (a reset counts as the end): bounded by the socket timeout. */
    private static long drain(InputStream in) throws IOException {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
            }
        } catch (java.net.SocketException e) {
            // the server closed with data unread: a reset
        }
        return total;
    }
}
