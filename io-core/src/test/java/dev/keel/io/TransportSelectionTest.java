package dev.keel.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
 * where it can run and falling back to epoll with one log line where it cannot. Forbidding
 * io_uring is done with the documented switch ({@link Transport#IO_URING_DISABLED_PROPERTY}),
 * which fails the probe as a seccomp filter would.
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
        try (EventLoopGroup g = EventLoopGroup.builder().transport(Transport.AUTO).loops(2).handler(new Echo()).start()) {
            assertEquals(Transport.EPOLL, g.transport());
            g.loops().forEach(loop -> assertEquals(Transport.EPOLL, loop.transport()));
            echoes(g);
        }
        List<String> lines = logged.stream().map(LogRecord::getMessage).toList();
        assertEquals(1, lines.size(), "one line for the whole group: " + lines);
        assertTrue(lines.get(0).contains("epoll") && lines.get(0).contains(Transport.IO_URING_DISABLED_PROPERTY),
                "the line says what was chosen and why: " + lines.get(0));
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
        try (EventLoopGroup g = EventLoopGroup.builder().transport(Transport.AUTO).handler(new Echo()).start()) {
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
