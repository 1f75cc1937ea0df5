package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.Iovec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IOSQE_FIXED_FILE;
import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_CREAT;
import static dev.keel.ffm.gen.LinuxConstants.O_RDWR;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** READ/WRITE, READV/WRITEV, fixed files and registered buffers through the rings on a real file. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoUringFileIoTest {
    @TempDir
    Path dir;
    private Path file;
    private final byte[] payload = new byte[10_000];

    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @BeforeEach
    void randomPayload() {
        new Random(42).nextBytes(payload);
        file = dir.resolve("data.bin");
    }

    @Test
    void shouldWriteAndReadAFileThroughTheRings() throws Exception {
        int fd = TestNative.open(file.toString(), O_RDWR | O_CREAT | O_CLOEXEC);
        try (IoUringRing ring = IoUringRing.open(8, 0); Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(payload.length);
            MemorySegment.copy(payload, 0, out, JAVA_BYTE, 0, payload.length);
            ring.prep().write(Rings.sqe(ring), fd, out.address(), payload.length, 0L, 1L);
            assertEquals(List.of(new Rings.Cqe(1L, payload.length, 0)), Rings.await(ring, 1));
            assertArrayEquals(payload, java.nio.file.Files.readAllBytes(file), "the file holds what the ring wrote");

            MemorySegment in = arena.allocate(payload.length);
            ring.prep().read(Rings.sqe(ring), fd, in.address(), 4096, 0L, 2L);
            ring.prep().read(Rings.sqe(ring), fd, in.address() + 4096, payload.length - 4096, 4096L, 3L);
            List<Rings.Cqe> done = Rings.await(ring, 2);
            assertEquals(payload.length, done.stream().mapToInt(Rings.Cqe::res).sum());
            assertArrayEquals(payload, in.toArray(JAVA_BYTE), "the ring read back every byte at its offset");

            ring.prep().read(Rings.sqe(ring), fd, in.address(), 100, payload.length, 4L);
            assertEquals(List.of(new Rings.Cqe(4L, 0, 0)), Rings.await(ring, 1), "reading at EOF gives 0");
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldGatherAndScatterSeveralBuffers() throws Exception {
        byte[][] parts = {"first ".getBytes(StandardCharsets.US_ASCII), new byte[0],
                "second part ".getBytes(StandardCharsets.US_ASCII), Arrays.copyOf(payload, 3000)};
        int total = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        int fd = TestNative.open(file.toString(), O_RDWR | O_CREAT | O_CLOEXEC);
        try (IoUringRing ring = IoUringRing.open(8, 0); Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(Iovec.SIZE * parts.length, Iovec.ALIGNMENT);
            for (int i = 0; i < parts.length; i++) {
                MemorySegment b = arena.allocate(Math.max(1, parts[i].length));
                MemorySegment.copy(parts[i], 0, b, JAVA_BYTE, 0, parts[i].length);
                iov.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_BASE, b.address());
                iov.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_LEN, parts[i].length);
            }
            ring.prep().writev(Rings.sqe(ring), fd, iov.address(), parts.length, 0L, 1L);
            assertEquals(List.of(new Rings.Cqe(1L, total, 0)), Rings.await(ring, 1));
            byte[] expected = new byte[total];
            int at = 0;
            for (byte[] p : parts) {
                System.arraycopy(p, 0, expected, at, p.length);
                at += p.length;
            }
            assertArrayEquals(expected, java.nio.file.Files.readAllBytes(file));

            // Scatter into three buffers of other sizes: 5, 20, rest.
            int[] sizes = {5, 20, total - 25};
            MemorySegment[] bufs = new MemorySegment[sizes.length];
            MemorySegment riov = arena.allocate(Iovec.SIZE * sizes.length, Iovec.ALIGNMENT);
            for (int i = 0; i < sizes.length; i++) {
                bufs[i] = arena.allocate(sizes[i]);
                riov.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_BASE, bufs[i].address());
                riov.set(JAVA_LONG, i * Iovec.SIZE + Iovec.IOV_LEN, sizes[i]);
            }
            ring.prep().readv(Rings.sqe(ring), fd, riov.address(), sizes.length, 0L, 2L);
            assertEquals(List.of(new Rings.Cqe(2L, total, 0)), Rings.await(ring, 1));
            at = 0;
            for (int i = 0; i < sizes.length; i++) {
                assertArrayEquals(Arrays.copyOfRange(expected, at, at + sizes[i]), bufs[i].toArray(JAVA_BYTE),
                        "iovec " + i);
                at += sizes[i];
            }
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldReadThroughAFixedFileSlotIntoARegisteredBuffer() throws Exception {
        java.nio.file.Files.write(file, payload);
        int fd = TestNative.open(file.toString(), O_RDWR | O_CLOEXEC);
        try (IoUringRing ring = IoUringRing.open(8, 0); Arena arena = Arena.ofConfined()) {
            IoUringRegister.registerFilesSparse(ring, 4);
            MemorySegment fds = arena.allocate(JAVA_INT);
            fds.set(JAVA_INT, 0, fd);
            assertEquals(1, IoUringRegister.updateFiles(ring, 2, fds, 1));

            MemorySegment buf = arena.allocate(8192, 4096);
            MemorySegment iov = arena.allocate(Iovec.SIZE, Iovec.ALIGNMENT);
            iov.set(JAVA_LONG, Iovec.IOV_BASE, buf.address());
            iov.set(JAVA_LONG, Iovec.IOV_LEN, buf.byteSize());
            IoUringRegister.registerBuffers(ring, iov, 1);

            int s = Rings.sqe(ring);
            ring.prep().readFixed(s, 2, buf.address() + 100, 1000, 500L, 0, 7L);
            ring.prep().addFlags(s, IOSQE_FIXED_FILE);
            assertEquals(List.of(new Rings.Cqe(7L, 1000, 0)), Rings.await(ring, 1));
            assertArrayEquals(Arrays.copyOfRange(payload, 500, 1500), buf.asSlice(100, 1000).toArray(JAVA_BYTE));

            IoUringRegister.unregisterBuffers(ring);
            IoUringRegister.unregisterFiles(ring);
        } finally {
            Files.close(fd);
        }
    }
}
