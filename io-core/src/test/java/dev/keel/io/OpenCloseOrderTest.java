package dev.keel.io;

import dev.keel.ffm.Seccomp;
import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.keel.ffm.gen.LinuxConstants.SYS_setsockopt;
import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A handler hears {@code onClose} only for a connection it heard {@code onOpen} for. The loop
 * thread's setsockopt is made to fail (a seccomp filter on that thread alone: the real kernel
 * path of a failed call), so each accepted socket fails its registration and is closed
 * before the handler ever sees it.
 */
class OpenCloseOrderTest {
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldNotTellTheHandlerOfACloseWhoseOpenItNeverHeard(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        Set<Connection> opened = ConcurrentHashMap.newKeySet();
        AtomicInteger closes = new AtomicInteger();
        AtomicInteger closesWithoutOpen = new AtomicInteger();
        ConnectionHandler handler = new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) {
                opened.add(c);
            }

            @Override
            public void onData(Connection c, MemorySegment data) {
                c.write(data);
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                closes.incrementAndGet();
                if (!opened.contains(c)) {
                    closesWithoutOpen.incrementAndGet();
                }
            }
        };
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().transport(transport).handler(handler).start()) {
            EventLoop loop = group.loops().get(0);
            CompletableFuture<Void> filtered = new CompletableFuture<>();
            loop.execute(() -> {
                Seccomp.denyOnCurrentThread(Errno.EPERM, SYS_setsockopt); // this loop thread only
                filtered.complete(null);
            });
            filtered.get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                try (Socket client = connect(group)) {
                    assertEquals(-1, client.getInputStream().read(), "the unregistered connection is closed");
                }
            }
            await("the three closes", () -> loop.stats().closed() == 3);
            assertEquals(0, closesWithoutOpen.get(), "onClose without onOpen");
            assertEquals(0, closes.get(), "the handler heard nothing of connections it never saw open");
            assertEquals(3, loop.stats().accepted(), "each was accepted, and counted");
        }
    }
}
