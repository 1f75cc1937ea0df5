package dev.keel.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which transport a group runs on: names parsed for the command line, AUTO taking io_uring
 * where it can run and falling back to epoll with one log line where it cannot. io_uring is
 * forbidden by a real seccomp filter (in a child JVM) and by the documented switch
 * ({@link Transport#IO_URING_DISABLED_PROPERTY}), which fails the probe in this JVM.
 */
class TransportSelectionTest {
    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Logger log = Logger.getLogger("dev.keel.io");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logged.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @AfterEach
    void allowIoUringAgain() {
        System.clearProperty(Transport.IO_URING_DISABLED_PROPERTY);
        log.removeHandler(capture);
    }

    @Test
    void shouldParseTheNamesTheCommandLineTakes() {
        assertEquals(Transport.EPOLL, Transport.parse("epoll"));
        assertEquals(Transport.IO_URING, Transport.parse("io_uring"));
        assertEquals(Transport.IO_URING, Transport.parse("IO-URING"));
        assertEquals(Transport.AUTO, Transport.parse(" Auto "));
        for (Transport t : Transport.values()) {
            assertEquals(t, Transport.parse(t.label()), "label round trip");
        }
        var e = assertThrows(IllegalArgumentException.class, () -> Transport.parse("kqueue"));
        assertEquals("unknown transport 'kqueue': expected epoll, io_uring or auto", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Transport.parse(null));
    }

    @Test
    @Timeout(30)
    void shouldServeOverEpollWithOneLogLineWhenAutoFindsIoUringForbidden() throws Exception {
        System.setProperty(Transport.IO_URING_DISABLED_PROPERTY, "true");
        log.addHandler(capture);
        try (EventLoopGroup g = EventLoopGroup.builder().transport(Transport.AUTO).loops(2).unpinned()
                .handler(new Echo()).start()) {
            assertEquals(Transport.EPOLL, g.transport());
            g.loops().forEach(loop -> assertEquals(Transport.EPOLL, loop.transport()));
            echoes(g);
        }
        List<String> lines = logged.stream().map(LogRecord::getMessage).toList();
        assertEquals(1, lines.size(), "one line for the whole group: " + lines);
        assertTrue(lines.get(0).contains("epoll") && lines.get(0).contains(Transport.IO_URING_DISABLED_PROPERTY),
                "the line says what was chosen and why: " + lines.get(0));
    }

    /**
     * The real thing a container does: a seccomp filter fails io_uring_setup with EPERM. The
     * server runs in a child JVM, whose first io_uring probe happens under the filter.
     */
    @Test
    @Timeout(60)
    void shouldServeOverEpollWhenASeccompFilterForbidsIoUring() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), SeccompFallbackProbe.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            List<String> logLines = new java.util.ArrayList<>();
            String line;
            while ((line = out.readLine()) != null && line.startsWith("log ")) {
                logLines.add(line.substring(4));
            }
            assertEquals("transport epoll", line, "AUTO chose epoll under the filter");
            assertEquals(1, logLines.size(), "one line says why: " + logLines);
            assertTrue(logLines.get(0).contains("forbidden") && logLines.get(0).contains("EPERM"),
                    "the line names the cause: " + logLines.get(0));
            String port = out.readLine();
            assertTrue(port != null && port.startsWith("port "), "child port line: " + port);
            try (Socket s = new Socket()) {
                s.connect(new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(port.substring(5))), 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("seccomp".getBytes());
                assertArrayEquals("seccomp".getBytes(), s.getInputStream().readNBytes(7), "served over epoll");
            }
        } finally {
            child.getOutputStream().close();
            if (!child.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    @Timeout(30)
    void shouldRefuseToStartIoUringWhenItIsForbidden() throws Exception {
        System.setProperty(Transport.IO_URING_DISABLED_PROPERTY, "true");
        long fdsBefore = EchoBehaviourTest.openFds();
        var e = assertThrows(IllegalStateException.class,
                () -> EventLoopGroup.builder().transport(Transport.IO_URING).handler(new Echo()).start());
        assertTrue(e.getMessage().contains("io_uring") && e.getMessage().contains(Transport.IO_URING_DISABLED_PROPERTY),
                e.getMessage());
        assertEquals(fdsBefore, EchoBehaviourTest.openFds(), "a refused start leaves no descriptor open");
    }

    @Test
    @Timeout(30)
    void shouldTakeIoUringSilentlyWhenAutoFindsItUsable() throws Exception {
        UringTests.assumeIoUring();
        log.addHandler(capture);
        try (EventLoopGroup g = EventLoopGroup.builder().transport(Transport.AUTO).unpinned().handler(new Echo()).start()) {
            assertEquals(Transport.IO_URING, g.transport());
            echoes(g);
        }
        assertEquals(List.of(), logged.stream().map(LogRecord::getMessage).toList(), "nothing to say");
    }

    @Test
    @Timeout(30)
    void shouldKeepEpollAsTheDefault() throws Exception {
        try (EventLoopGroup g = EventLoopGroup.builder().handler(new Echo()).start()) {
            assertEquals(Transport.EPOLL, g.transport());
        }
    }

    private static void echoes(EventLoopGroup g) throws Exception {
        try (Socket s = EchoBehaviourTest.connect(g)) {
            s.getOutputStream().write("fallback".getBytes());
            assertArrayEquals("fallback".getBytes(), EchoBehaviourTest.readFully(s.getInputStream(), 8));
        }
    }
}
