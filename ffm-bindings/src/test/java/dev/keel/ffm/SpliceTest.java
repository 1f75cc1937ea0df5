package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_CREAT;
import static dev.keel.ffm.gen.LinuxConstants.O_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.O_WRONLY;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_MORE;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_MOVE;
import static dev.keel.ffm.gen.LinuxConstants.SPLICE_F_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpliceTest {
    private static final int FILE_SIZE = 2 << 20;
    private static final int SOCKET_BUFFER = 64 << 10;

    @TempDir
    Path dir;
    private byte[] content;
    private int fileFd = -1;
    private final int[] pipe = {-1, -1};
    private Arena arena;

    @BeforeEach
    void createFileAndPipe() throws IOException {
        content = new byte[FILE_SIZE];
        new Random(7).nextBytes(content);
        Path file = java.nio.file.Files.write(dir.resolve("payload.bin"), content);
        fileFd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        Splice.pipe2(pipe, O_CLOEXEC | O_NONBLOCK);
        // Shared: assertTimeoutPreemptively runs the body on another thread.
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeAll() {
        arena.close();
        Files.close(pipe[0]);
        Files.close(pipe[1]);
        Files.close(fileFd);
    }

    @Test
    void shouldSpliceAFileThroughAPipeIntoATcpSocket() {
        int[] pair = TestSockets.tcpPair(SOCK_NONBLOCK, SOCKET_BUFFER);
        int receiver = pair[0];
        int sender = pair[1];
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                MemorySegment fileOffset = arena.allocate(JAVA_LONG);
                MemorySegment buf = arena.allocate(SOCKET_BUFFER);
                byte[] received = new byte[FILE_SIZE];
                int got = 0;
                long sent = 0;
                long inPipe = 0;
                int eagains = 0;
                int pipeSize = Splice.pipeSize(pipe[1]);
                while (sent < FILE_SIZE) {
                    if (inPipe == 0) {
                        long before = fileOffset.get(JAVA_LONG, 0);
                        long n = Splice.splice(fileFd, fileOffset, pipe[1], MemorySegment.NULL,
                                Math.min(pipeSize, FILE_SIZE - before), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        assertTrue(n > 0, "file -> empty pipe moved " + n);
                        assertEquals(before + n, fileOffset.get(JAVA_LONG, 0), "the kernel advances off_in");
                        inPipe = n;
                    }
                    long m = Splice.splice(pipe[0], MemorySegment.NULL, sender, MemorySegment.NULL, inPipe,
                            SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE);
                    if (m == -Errno.EAGAIN) {
                        eagains++;
                        got = TestIo.drain(receiver, buf, received, got, MSG_DONTWAIT);
                    } else {
                        assertTrue(m > 0, "pipe -> socket moved " + m);
                        inPipe -= m;
                        sent += m;
                    }
                }
                while (got < FILE_SIZE) {
                    got = TestIo.drain(receiver, buf, received, got, 0);
                }
                assertTrue(eagains > 0, "a full non-blocking socket must give -EAGAIN, not an exception");
                assertEquals(FILE_SIZE, fileOffset.get(JAVA_LONG, 0));
                assertEquals(0, Splice.splice(fileFd, fileOffset, pipe[1], MemorySegment.NULL, 1, 0), "EOF");
                assertArrayEquals(content, received);
            });
        } finally {
            Files.close(sender);
            Files.close(receiver);
        }
    }

    @Test
    void shouldDuplicatePipeContentWithTeeWithoutConsumingIt() {
        int[] copy = new int[2];
        Splice.pipe2(copy, O_CLOEXEC | O_NONBLOCK);
        try {
            byte[] data = "keel tees this".getBytes(StandardCharsets.US_ASCII);
            TestIo.writeFully(pipe[1], data);
            assertEquals(data.length, Splice.tee(pipe[0], copy[1], 1024, SPLICE_F_NONBLOCK));
            assertArrayEquals(data, TestIo.readFully(copy[0], data.length), "the copy holds the bytes");
            assertArrayEquals(data, TestIo.readFully(pipe[0], data.length), "the source still holds them");
            assertEquals(-Errno.EAGAIN, Splice.tee(pipe[0], copy[1], 1024, SPLICE_F_NONBLOCK), "nothing left to tee");
        } finally {
            Files.close(copy[0]);
            Files.close(copy[1]);
        }
    }

    @Test
    void shouldSetThePipeSizeAndHoldExactlyThatMuch() {
        int requested = 4 * Splice.pipeSize(pipe[0]);
        int granted = Splice.setPipeSize(pipe[1], requested);
        assertTrue(granted >= requested, "granted " + granted + " for " + requested);
        assertEquals(granted, Splice.pipeSize(pipe[0]), "both ends see one pipe");
        // Fill the pipe from the file until it refuses: it must hold exactly its new capacity.
        long held = 0;
        long n;
        while ((n = Splice.splice(fileFd, MemorySegment.NULL, pipe[1], MemorySegment.NULL, FILE_SIZE,
                SPLICE_F_NONBLOCK)) > 0) {
            held += n;
        }
        assertEquals(-Errno.EAGAIN, n, "a full pipe with SPLICE_F_NONBLOCK gives -EAGAIN");
        assertEquals(granted, held);
    }

    @Test
    void shouldCreateANonBlockingPipeWithPipe2() {
        assertTrue(pipe[0] >= 0 && pipe[1] >= 0);
        assertNotEquals(pipe[0], pipe[1]);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buf = local.allocate(8);
            assertEquals(-Errno.EAGAIN, TestIo.read(pipe[0], buf, 8), "O_NONBLOCK reached the read end");
            TestIo.writeFully(pipe[1], new byte[] {42});
            assertEquals(1, TestIo.read(pipe[0], buf, 8));
            assertEquals(42, buf.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        }
        assertThrows(IllegalArgumentException.class, () -> Splice.pipe2(new int[1], 0));
        SyscallException e = assertThrows(SyscallException.class, () -> Splice.pipe2(new int[2], -1));
        assertEquals("pipe2: EINVAL (Invalid argument)", e.getMessage());
    }

    @Test
    void shouldNameTheCallAndErrnoOnMisuse() {
        SyscallException badFd = assertThrows(SyscallException.class,
                () -> Splice.splice(-1, MemorySegment.NULL, pipe[1], MemorySegment.NULL, 1, 0));
        assertEquals("splice: EBADF (Bad file descriptor)", badFd.getMessage());
        int outFd = Files.open(dir.resolve("out.bin").toString(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        try {
            SyscallException noPipe = assertThrows(SyscallException.class,
                    () -> Splice.splice(fileFd, MemorySegment.NULL, outFd, MemorySegment.NULL, 1, 0));
            assertEquals("EINVAL", noPipe.errnoName(), "one end must be a pipe");
        } finally {
            Files.close(outFd);
        }
        SyscallException notPipe = assertThrows(SyscallException.class, () -> Splice.setPipeSize(fileFd, 1 << 20));
        assertEquals("fcntl F_SETPIPE_SZ: EBADF (Bad file descriptor)", notPipe.getMessage());
        assertEquals("tee", assertThrows(SyscallException.class, () -> Splice.tee(-1, pipe[1], 1, 0)).call());
    }
}
