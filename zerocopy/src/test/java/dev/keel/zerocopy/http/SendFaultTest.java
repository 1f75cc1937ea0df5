package dev.keel.zerocopy.http;

import dev.keel.zerocopy.testing.RawHttp;

import dev.keel.io.Transport;
import dev.keel.io.testing.ResourceSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_DIRECTORY;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files that fail while they are being sent, on the real kernel and both transports (epoll's
 * sendfile, io_uring's splice in the ring): truncated (sendfile and splice return 0 before the
 * promised length), deleted (the open descriptor still reads), and
 * unreadable (the descriptor is swapped under the server for a directory with dup2(2), so the
 * next sendfile or splice fails with EINVAL, as a read error would). Each ends with the
 * connection closed, not spinning and not hanging, the server serving on, and nothing leaked.
 */
@Timeout(60)
class SendFaultTest {
    private static final int BIG = 48 * 1024 * 1024;
    private static final int FIRST_READ = 1024 * 1024;

    @TempDir
    Path root;
    FileServer server;
    byte[] content;

    private void start(String kind) throws Exception {
        content = new byte[BIG];
        new Random(8).nextBytes(content);
        Files.write(root.resolve("big.bin"), content);
        Files.writeString(root.resolve("ok.txt"), "still here\n");
        if (kind.equals("io_uring")) {
            IoUringAvailable.assume(); // bodies go through the ring: splice file -> pipe -> socket
        }
        server = FileServer.builder().root(root).transport(Transport.parse(kind))
                .fileCache(16, java.time.Duration.ofHours(1)).start();
        assertEquals("still here\n", ok());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private String ok() throws IOException {
        return RawHttp.exchange(server.port(), "GET /ok.txt HTTP/1.1\r\nHost: x\r\n\r\n").text();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"epoll", "io_uring"})
    void shouldCloseTheConnectionWhenTheFileIsTruncatedWhileItIsSent(String kind) throws Exception {
        start(kind);
        ResourceSnapshot before = ResourceSnapshot.ofSelf(server.group());
        Stress.Held heldBefore = Stress.held(server);
        try (Socket s = startDownload()) {
            try (RandomAccessFile f = new RandomAccessFile(root.resolve("big.bin").toFile(), "rw")) {
                f.setLength(0);
            }
            long got = FIRST_READ + drain(s.getInputStream());
            assertTrue(got < BIG, "the transfer stopped short of the promised length: " + got);
        }
        assertEquals("still here\n", ok());
        RawHttp.Response now = RawHttp.exchange(server.port(), "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals("0", now.header("content-length"), "the file is looked at afresh after the failed send");
        Stress.assertBackTo(server, before, heldBefore);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"epoll", "io_uring"})
    void shouldSendEveryByteOfAFileDeletedWhileItIsSent(String kind) throws Exception {
        start(kind);
        ResourceSnapshot before = ResourceSnapshot.ofSelf(server.group());
        Stress.Held heldBefore = Stress.held(server);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            skipHead(in);
            sha.update(in.readNBytes(FIRST_READ));
            Files.delete(root.resolve("big.bin"));
            byte[] buffer = new byte[1 << 16];
            long total = FIRST_READ;
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
                total += n;
            }
            assertEquals(BIG, total, "the whole file, from the descriptor the server holds");
        }
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(content), sha.digest(), "the same bytes");
        assertEquals("still here\n", ok());
        Stress.assertBackTo(server, before, heldBefore);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"epoll", "io_uring"})
    void shouldCloseTheConnectionOnAReadErrorAndServeTheFileAgainAfter(String kind) throws Throwable {
        start(kind);
        ResourceSnapshot before = ResourceSnapshot.ofSelf(server.group());
        Stress.Held heldBefore = Stress.held(server);
        try (Socket s = startDownload()) {
            int fd = serverDescriptorOf(root.resolve("big.bin"));
            int dir = dev.keel.ffm.Files.open(root.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            try {
                assertEquals(fd, (int) DUP2.invokeExact(dir, fd), "dup2");
            } finally {
                dev.keel.ffm.Files.close(dir);
            }
            long got = FIRST_READ + drain(s.getInputStream());
            assertTrue(got < BIG, "the transfer stopped at the failed read: " + got);
        }
        assertEquals("still here\n", ok());
        try (Socket s = startDownload()) {
            assertEquals(BIG - FIRST_READ, drain(s.getInputStream()), "the file is opened afresh and sent whole");
        }
        Stress.assertBackTo(server, before, heldBefore);
    }

    /** Asks for big.bin (closing after it) and reads its head and first mebibyte. */
    private Socket startDownload() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        skipHead(in);
        byte[] first = in.readNBytes(FIRST_READ);
        assertArrayEquals(Arrays.copyOf(content, FIRST_READ), first);
        return s;
    }

    private static void skipHead(InputStream in) throws IOException {
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("no head");
            }
            state = c == (state % 2 == 0 ? '\r' : '\n') ? state + 1 : c == '\r' ? 1 : 0;
        }
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
            // ECONNRESET: the server aborted
        }
        return total;
    }

    /** The descriptor this process (the server) holds on {@code file}: the open-file cache's. */
    private static int serverDescriptorOf(Path file) throws IOException {
        Path target = file.toRealPath();
        String[] fds = Path.of("/proc/self/fd").toFile().list();
        for (String fd : fds == null ? new String[0] : fds) {
            try {
                if (Files.readSymbolicLink(Path.of("/proc/self/fd", fd)).equals(target)) {
                    return Integer.parseInt(fd);
                }
            } catch (IOException e) {
                // closed while we looked
            }
        }
        throw new AssertionError("the server holds no descriptor on " + target);
    }

    /** dup2(2), to swap a real directory in under the server's descriptor: test plumbing, not the code under test. */
    private static final MethodHandle DUP2 = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("dup2").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
}
