package dev.keel.io;

import dev.keel.ffm.Seccomp;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.SHUT_RD;
import static dev.keel.ffm.gen.LinuxConstants.SYS_accept4;
import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One policy for a failed accept on both transports: a per-connection error (the connection
 * went before it was taken) is counted and accepting goes on; running out of descriptors or
 * memory, or an error nobody expected, pauses accepting and retries on a timer, counted.
 * Never a loop that re-arms a failing accept at once.
 */
class AcceptErrorPolicyTest {
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldPauseCountAndRetryOnAnUnexpectedAcceptErrorWithoutSpinning(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        LoopOptions options = LoopOptions.builder().acceptRetry(Duration.ofMillis(100)).tick(Duration.ofMillis(50))
                .build();
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().transport(transport).options(options)
                .handler(new Echo()).start()) {
            EventLoop loop = group.loops().get(0);
            try (Socket open = connect(group)) {
                echo(open, "before");
                // A listener shut down for reading stops listening: accept fails with EINVAL.
                Sockets.shutdown(loop.listenFd(), SHUT_RD);
                await("the failed accept to be counted", () -> loop.stats().acceptFailures() > 0);
                long passes = loop.stats().passes();
                long failures = loop.stats().acceptFailures();
                Thread.sleep(500);
                long morePasses = loop.stats().passes() - passes;
                long retries = loop.stats().acceptFailures() - failures;
                assertTrue(retries <= 500 / 100 + 3, "accept retried once per 100 ms pause: " + retries + " in 500 ms");
                assertTrue(morePasses < 200, "the loop made " + morePasses + " passes in 500 ms: a loop re-arming"
                        + " a failing accept at once makes thousands");
                echo(open, "still served");
                assertEquals(0, loop.stats().loopFailures(), "no failure escaped a pass");
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldCountAConnectionAbortedBeforeItWasAcceptedAndGoOnAccepting() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(new Echo()).start()) {
            EventLoop loop = group.loops().get(0);
            CompletableFuture<Void> filtered = new CompletableFuture<>();
            loop.execute(() -> {
                Seccomp.denyOnCurrentThread(Errno.ECONNABORTED, SYS_accept4); // this loop thread only
                filtered.complete(null);
            });
            filtered.get(10, TimeUnit.SECONDS);
            try (Socket aborted = new Socket()) {
                aborted.connect(group.address(), 5000);
                await("the aborted connection to be counted", () -> loop.stats().acceptAborted() > 0);
                assertEquals(0, loop.stats().acceptFailures(), "a per-connection error does not pause accepting");
                assertTrue(onLoop(loop, loop::accepting), "the loop still accepts");
            }
        }
    }

    @Test
    void shouldSortAcceptErrorsTheSameWayForEveryTransport() {
        // io_uring's accept errors arrive in completions, out of a seccomp filter's reach: the
        // classification both transports share is checked here directly.
        for (int errno : new int[] {Errno.ECONNABORTED, Errno.EPERM, Errno.EPROTO, Errno.ENETDOWN, Errno.ENETUNREACH,
                Errno.EHOSTUNREACH, Errno.EHOSTDOWN, Errno.ENONET, Errno.ENOPROTOOPT, Errno.EOPNOTSUPP}) {
            assertTrue(AcceptPolicy.isPerConnection(errno), Errno.name(errno) + " is the one connection's");
            assertTrue(!AcceptPolicy.isExhaustion(errno), Errno.name(errno));
        }
        for (int errno : new int[] {Errno.EMFILE, Errno.ENFILE, Errno.ENOBUFS, Errno.ENOMEM}) {
            assertTrue(AcceptPolicy.isExhaustion(errno), Errno.name(errno) + " is exhaustion");
            assertTrue(!AcceptPolicy.isPerConnection(errno), Errno.name(errno));
        }
        for (int errno : new int[] {Errno.EINVAL, Errno.EBADF, Errno.ENOTSOCK, Errno.EFAULT}) {
            assertTrue(!AcceptPolicy.isPerConnection(errno) && !AcceptPolicy.isExhaustion(errno),
                    Errno.name(errno) + " is unexpected: paused and logged");
        }
    }

    private static void echo(Socket s, String text) throws Exception {
        s.getOutputStream().write(text.getBytes());
        assertArrayEquals(text.getBytes(), s.getInputStream().readNBytes(text.length()), "echoed: " + text);
    }
}
