package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SendFileTest {
    private static final int FILE_SIZE = 4 << 20;
    /** Small socket buffers so a 4 MiB file cannot fit in flight: partial sends and EAGAIN must happen. */
    private static final int SOCKET_BUFFER = 64 << 10;

    @TempDir
    Path dir;
    private byte[] content;
    private int fileFd = -1;
    private Arena arena;

    @BeforeEach
    void createFile() throws IOException {
        content = new byte[FILE_SIZE];
        new Random(42).nextBytes(content);
        Path file = java.nio.file.Files.write(dir.resolve("payload.bin"), content);
        fileFd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        // Shared: assertTimeoutPreemptively runs the body on another thread.
        arena = Arena.ofShared();
    }

    @AfterEach
    void closeFile() {
        arena.close();
        Files.close(fileFd);
    }

    @Test
    void shouldSendAMultiMegabyteFileIntoANonBlockingTcpSocket() {
        int[] pair = TestSockets.tcpPair(SOCK_NONBLOCK, SOCKET_BUFFER);
        int receiver = pair[0];
        int sender = pair[1];
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                MemorySegment offset = arena.allocate(JAVA_LONG);
                MemorySegment buf = arena.allocate(SOCKET_BUFFER);
                byte[] received = new byte[FILE_SIZE];
                int got = 0;
                long sent = 0;
                int eagains = 0;
                while (sent < FILE_SIZE) {
                    long n = SendFile.sendfile(sender, fileFd, offset, FILE_SIZE - sent);
                    if (n == -Errno.EAGAIN) {
                        eagains++;
                        got = TestIo.drain(receiver, buf, received, got, MSG_DONTWAIT);
                    } else {
                        assertTrue(n > 0, "sendfile returned " + n);
                        sent += n;
                        assertEquals(sent, offset.get(JAVA_LONG, 0), "the kernel advances the caller's offset");
                    }
                }
                while (got < FILE_SIZE) {
                    got = TestIo.drain(receiver, buf, received, got, 0);
                }
                assertTrue(eagains > 0, "a full non-blocking socket must give -EAGAIN, not an exception");
                assertArrayEquals(content, received);
            });
            // With an explicit offset the file's own position never moved.
            assertArrayEquals(Arrays.copyOf(content, 16), TestIo.readFully(fileFd, 16));
        } finally {
            Files.close(sender);
            Files.close(receiver);
        }
    }

    @Test
    void shouldSendASliceFromTheGivenOffsetAndAdvanceIt() {
        int[] pair = TestSockets.tcpPair(0, 0);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                MemorySegment offset = arena.allocate(JAVA_LONG);
                offset.set(JAVA_LONG, 0, 1000);
                assertEquals(5000, SendFile.sendfile(pair[1], fileFd, offset, 5000));
                assertEquals(6000, offset.get(JAVA_LONG, 0));
                assertArrayEquals(Arrays.copyOfRange(content, 1000, 6000), TestIo.readFully(pair[0], 5000));

                offset.set(JAVA_LONG, 0, FILE_SIZE);
                assertEquals(0, SendFile.sendfile(pair[1], fileFd, offset, 5000), "0 at end of file");
            });
        } finally {
            Files.close(pair[0]);
            Files.close(pair[1]);
        }
    }

    @Test
    void shouldUseAndAdvanceTheFilePositionWithANullOffset() {
        int[] pair = TestSockets.tcpPair(0, 0);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                assertEquals(100, SendFile.sendfile(pair[1], fileFd, MemorySegment.NULL, 100));
                assertEquals(100, SendFile.sendfile(pair[1], fileFd, MemorySegment.NULL, 100));
                assertArrayEquals(Arrays.copyOf(content, 200), TestIo.readFully(pair[0], 200));
                assertArrayEquals(Arrays.copyOfRange(content, 200, 216), TestIo.readFully(fileFd, 16));
            });
        } finally {
            Files.close(pair[0]);
            Files.close(pair[1]);
        }
    }

    @Test
    void shouldNameSendfileAndEbadfOnABadDescriptor() {
        MemorySegment offset = arena.allocate(JAVA_LONG);
        SyscallException e = assertThrows(SyscallException.class, () -> SendFile.sendfile(-1, fileFd, offset, 10));
        assertEquals("sendfile: EBADF (Bad file descriptor)", e.getMessage());
        assertEquals(0, offset.get(JAVA_LONG, 0), "a failed call leaves the offset");
    }
}
