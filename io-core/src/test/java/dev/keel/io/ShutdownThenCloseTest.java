package dev.keel.io;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A handler that shuts its output and closes at once, while other clients keep connecting: no
 * new connection may be touched by what was done to the closed one. On io_uring a shutdown runs
 * on a kernel worker that looks the descriptor up only when it starts; a close that did not wait
 * for it freed the number, the next accept reused it, and the shutdown hit the new connection,
 * whose answer then failed with EPIPE (the client saw end of stream instead of its echo).
 */
class ShutdownThenCloseTest {
    private static final int CLIENTS = 4;
    private static final int ROUNDS = Boolean.getBoolean("keel.stress") ? 20_000 : 1_500;

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(300)
    void shouldNeverLetAClosedConnectionsShutdownReachANewOne(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        AtomicInteger closedEarly = new AtomicInteger();
        ConnectionHandler handler = new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                if (data.get(JAVA_BYTE, 0) == 'q') {
                    c.shutdownOutput(); // FIN now, then close while the shutdown may still be in the kernel
                    c.close();
                } else {
                    c.write(data);
                }
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                if (reason == CloseReason.RESET || reason == CloseReason.ERROR) {
                    closedEarly.incrementAndGet();
                }
            }
        };
        try (EventLoopGroup group = EventLoopGroup.builder().transport(transport).unpinned().noReservations()
                .handler(handler).start()) {
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", group.port());
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                List<Future<?>> clients = new ArrayList<>();
                for (int t = 0; t < CLIENTS; t++) {
                    clients.add(pool.submit(() -> {
                        for (int i = 0; i < ROUNDS; i++) {
                            quitter(at);
                            echo(at, i);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : clients) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(0, closedEarly.get(), "connections closed by a reset or an error");
        }
    }

    /** A connection that asks the server to shut its output and close. */
    private static void quitter(InetSocketAddress at) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write('q');
            s.getInputStream().read(); // end of stream: the server's FIN
        }
    }

    /** A fresh connection that must get its bytes back. */
    private static void echo(InetSocketAddress at, int i) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 5000);
            s.setSoTimeout(10_000);
            byte[] msg = {'e', (byte) i, (byte) (i >>> 8)};
            s.getOutputStream().write(msg);
            InputStream in = s.getInputStream();
            assertArrayEquals(msg, in.readNBytes(msg.length), "echo on a fresh connection (round " + i + ")");
        }
    }
}
