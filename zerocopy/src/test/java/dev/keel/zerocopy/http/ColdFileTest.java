package dev.keel.zerocopy.http;

import dev.keel.ffm.PageCache;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;
import dev.keel.zerocopy.testing.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.POSIX_FADV_DONTNEED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cold file does not stall its loop: a file evicted from the page cache with
 * posix_fadvise(DONTNEED) is requested on one connection; its first chunk is found cold and
 * handed to the read-ahead pool, whose answer the test holds back; meanwhile a small file is
 * asked and answered on another connection of the same (single) loop. Then the cold answer is
 * let go and arrives whole, every byte checked.
 */
@Timeout(300)
class ColdFileTest {
    private static final long SIZE = 64L * 1024 * 1024 + 123;
    /** posix_fadvise(DONTNEED) calls at most before the test gives up on a cold file. */
    private static final int EVICTION_TRIES = 20;

    @TempDir
    Path root;

    @Test
    void aColdFileIsReadOffTheLoopWhileTheLoopServesOthers() throws Exception {
        Path cold = root.resolve("cold.bin");
        String expectedDigest = writePattern(cold);
        java.nio.file.Files.writeString(root.resolve("small.txt"), "small and hot\n");
        // DONTNEED skips pages the kernel holds for a moment (per-CPU LRU batches), so it is asked
        // again, a bounded number of times, until the probe finds the first page cold. The probe
        // itself (preadv2 RWF_NOWAIT) starts a readahead of what it misses, so each probe follows
        // its own eviction, and its verdict is the one asserted: a second probe could find the
        // page the first one brought back.
        boolean evicted = false;
        for (int i = 0; i < EVICTION_TRIES && !evicted; i++) {
            evict(cold);
            evicted = !firstByteCached(cold);
        }
        evict(cold); // and what that last probe's readahead brought in
        assertTrue(evicted, "the file must be out of the page cache for this test to mean anything");

        try (FileServer server = FileServer.builder().root(root).loops(1).readAhead(1, 4).start()) {
            Semaphore gate = new Semaphore(0);
            server.readAhead().holdCompletions(gate);
            try (Socket a = new Socket()) {
                a.connect(new InetSocketAddress("127.0.0.1", server.port()));
                a.setSoTimeout(120_000);
                OutputStream out = a.getOutputStream();
                out.write("GET /cold.bin HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                waitFor(() -> server.readAhead().submitted() >= 1);

                RawHttp.Response small = RawHttp.exchange(server.port(), "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, small.status());
                assertEquals("small and hot\n", small.text());
                assertEquals(0, server.readAhead().completed(),
                        "the small file was answered while the cold chunk was still out with the reader");

                gate.release(Integer.MAX_VALUE / 2);
                InputStream in = new BufferedInputStream(a.getInputStream(), 1 << 16);
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200 "), head);
                assertTrue(head.contains("Content-Length: " + SIZE), head);
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                long left = SIZE;
                while (left > 0) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                    assertTrue(n > 0, "the cold body ended early");
                    md.update(buf, 0, n);
                    left -= n;
                }
                assertEquals(expectedDigest, HexFormat.of().formatHex(md.digest()));
            }
            long[] counts = server.readAheadCounts();
            assertTrue(counts[0] >= 1, "submitted");
            assertEquals(counts[0], counts[1], "every cold chunk came back");
            assertEquals(0, counts[2], "none refused");
            assertTrue(counts[3] > 0, "bytes read ahead");
        }
    }

    private static String writePattern(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1 << 20];
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long written = 0;
            int round = 0;
            while (written < SIZE) {
                for (int i = 0; i < block.length; i += 8) {
                    long v = (written + i) * 0x9E3779B97F4A7C15L + round;
                    for (int k = 0; k < 8; k++) {
                        block[i + k] = (byte) (v >>> (8 * k));
                    }
                }
                int n = (int) Math.min(block.length, SIZE - written);
                raf.write(block, 0, n);
                md.update(block, 0, n);
                written += n;
                round++;
            }
            raf.getFD().sync(); // clean pages: DONTNEED can drop only those
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void evict(Path file) {
        int fd = dev.keel.ffm.Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try {
            PageCache.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        } finally {
            dev.keel.ffm.Files.close(fd);
        }
    }

    private static boolean firstByteCached(Path file) {
        int fd = dev.keel.ffm.Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(8);
            MemorySegment iov = arena.allocate(Uio.iovecArraySize(1), 16);
            Uio.setIovec(iov, 0, b.address(), 1);
            return PageCache.preadNoWait(fd, iov, 0) != -Errno.EAGAIN;
        } finally {
            dev.keel.ffm.Files.close(fd);
        }
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder sb = new StringBuilder();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            assertTrue(b >= 0, "no head");
            sb.append((char) b);
            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
        }
        return sb.toString();
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached");
            Thread.sleep(5);
        }
    }
}
