package dev.keel.zerocopy;

import dev.keel.io.pipe.Pipe;
import dev.keel.io.pipe.PipePool;
import dev.keel.ffm.Files;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.Uio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_STREAM;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_SNDBUF;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FileRegion over a real loopback TCP pair: a non-blocking sender, a blocking reader thread. */
@Timeout(60)
class FileRegionTest {
    @TempDir
    Path dir;
    Arena arena;
    int sender = -1;
    int receiver = -1;

    @BeforeEach
    void connect() {
        arena = Arena.ofConfined();
        MemorySegment addr = arena.allocate(SocketAddresses.STORAGE_SIZE);
        int listener = Sockets.socket(dev.keel.ffm.gen.LinuxConstants.AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        try {
            Sockets.bind(listener, addr, SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), addr));
            Sockets.listen(listener, 1);
            Sockets.localAddress(listener, addr);
            InetSocketAddress at = SocketAddresses.read(addr);
            receiver = Sockets.socket(dev.keel.ffm.gen.LinuxConstants.AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            Sockets.connect(receiver, addr, SocketAddresses.write(at, addr));
            sender = Sockets.acceptBlocking(listener, SOCK_NONBLOCK | SOCK_CLOEXEC);
        } finally {
            Files.close(listener);
        }
    }

    @AfterEach
    void close() {
        if (sender >= 0) {
            Files.close(sender);
        }
        if (receiver >= 0) {
            Files.close(receiver);
        }
        arena.close();
    }

    /** Reads {@code n} bytes on another thread (blocking), as a client would. */
    private CompletableFuture<byte[]> receive(long n) {
        int fd = receiver;
        return CompletableFuture.supplyAsync(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(1 << 20);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long got = 0;
                while (got < n) {
                    long r = Uio.readBlocking(fd, buf, Math.min(buf.byteSize(), n - got));
                    if (r <= 0) {
                        break;
                    }
                    out.write(buf.asSlice(0, r).toArray(JAVA_BYTE), 0, (int) r);
                    got += r;
                }
                return out.toByteArray();
            }
        });
    }

    /** Sends the whole region, retrying after EAGAIN; returns the largest single call. */
    private static long drain(FileRegion region, int fd, boolean splice, Pipe pipe) throws InterruptedException {
        long largest = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!region.isDone()) {
            long n = splice ? region.spliceTo(fd, pipe) : region.sendTo(fd);
            if (n == FileRegion.AGAIN) {
                Thread.sleep(1);
            } else {
                assertTrue(n > 0, "progress, got " + n);
                largest = Math.max(largest, n);
            }
            assertTrue(System.nanoTime() < deadline, "transfer stalled");
        }
        return largest;
    }

    private Path randomFile(String name, int size, long seed) throws Exception {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return java.nio.file.Files.write(dir.resolve(name), b);
    }

    @Test
    void shouldSendARegionWithSendfileInChunksOfAtMostTwoMebibytes() throws Exception {
        Path file = randomFile("seven.bin", 7 * 1024 * 1024 + 5, 1);
        int fd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try {
            FileRegion region = FileRegion.allocate(arena).reset(fd, 3, 7 * 1024 * 1024);
            CompletableFuture<byte[]> got = receive(region.remaining());
            long largest = drain(region, sender, false, null);
            assertTrue(largest <= FileRegion.MAX_CHUNK, "largest call " + largest);
            assertEquals(7 * 1024 * 1024, region.transferred());
            byte[] all = java.nio.file.Files.readAllBytes(file);
            assertArrayEquals(Arrays.copyOfRange(all, 3, 3 + 7 * 1024 * 1024), got.get(30, TimeUnit.SECONDS));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldSpliceTheSameBytesThroughAPipe() throws Exception {
        Path file = randomFile("five.bin", 5 * 1024 * 1024, 2);
        int fd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try (PipePool pool = new PipePool(0, 4)) {
            Pipe pipe = pool.acquire();
            FileRegion region = FileRegion.allocate(arena).reset(fd, 1000, 4 * 1024 * 1024);
            CompletableFuture<byte[]> got = receive(region.remaining());
            long largest = drain(region, sender, true, pipe);
            assertTrue(largest <= FileRegion.MAX_CHUNK);
            assertTrue(pipe.isEmpty());
            pool.release(pipe);
            assertEquals(1, pool.idle());
            byte[] all = java.nio.file.Files.readAllBytes(file);
            assertArrayEquals(Arrays.copyOfRange(all, 1000, 1000 + 4 * 1024 * 1024), got.get(30, TimeUnit.SECONDS));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldSendFromOffsetsBeyondFourGibibytes() throws Exception {
        Path file = dir.resolve("sparse.bin");
        long at = 4L * 1024 * 1024 * 1024 + 12345; // past any int, past 32-bit off_t
        byte[] marker = new byte[300_000];
        new Random(3).nextBytes(marker);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(at + marker.length + 10); // sparse: no disk used for the hole
            raf.seek(at);
            raf.write(marker);
        }
        int fd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try {
            for (boolean splice : new boolean[] {false, true}) {
                FileRegion region = FileRegion.allocate(arena).reset(fd, at, marker.length);
                CompletableFuture<byte[]> got = receive(marker.length);
                try (Pipe pipe = Pipe.open(0)) {
                    drain(region, sender, splice, pipe);
                }
                assertEquals(at + marker.length, region.position());
                assertArrayEquals(marker, got.get(30, TimeUnit.SECONDS), splice ? "splice" : "sendfile");
            }
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldReturnAgainWhenTheSocketIsFullAndResumeLater() throws Exception {
        Sockets.setInt(sender, SOL_SOCKET, SO_SNDBUF, 4096);
        Path file = randomFile("two.bin", 2 * 1024 * 1024, 4);
        int fd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try {
            FileRegion region = FileRegion.allocate(arena).reset(fd, 0, 2 * 1024 * 1024);
            long n;
            int calls = 0;
            while ((n = region.sendTo(sender)) > 0) {
                calls++;
                assertTrue(calls < 10_000, "the socket never filled");
            }
            assertEquals(FileRegion.AGAIN, n, "nobody reads: the socket fills");
            assertFalse(region.isDone());
            long before = region.transferred();
            CompletableFuture<byte[]> got = receive(2 * 1024 * 1024);
            drain(region, sender, false, null);
            assertTrue(region.transferred() > before);
            assertArrayEquals(java.nio.file.Files.readAllBytes(file), got.get(30, TimeUnit.SECONDS));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldReturnZeroWhenTheFileEndsBeforeTheRegion() throws Exception {
        Path file = randomFile("short.bin", 1000, 5);
        int fd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try (Pipe pipe = Pipe.open(0)) {
            for (boolean splice : new boolean[] {false, true}) {
                FileRegion region = FileRegion.allocate(arena).reset(fd, 0, 5000);
                CompletableFuture<byte[]> got = receive(1000);
                long first = splice ? region.spliceTo(sender, pipe) : region.sendTo(sender);
                assertEquals(1000, first);
                long second = splice ? region.spliceTo(sender, pipe) : region.sendTo(sender);
                assertEquals(0, second, "truncated: nothing more to send");
                assertFalse(region.isDone());
                assertEquals(1000, got.get(10, TimeUnit.SECONDS).length);
            }
        } finally {
            Files.close(fd);
        }
    }
}
