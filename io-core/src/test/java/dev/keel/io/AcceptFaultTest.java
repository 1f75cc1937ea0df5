package dev.keel.io;

import dev.keel.ffm.Seccomp;
import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.SYS_accept4;
import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ENFILE at accept: the whole system is out of file handles. Lowering the machine's limit
 * would hurt every other process, so the kernel is made to answer the loop thread's accept4
 * with ENFILE through a seccomp filter on that thread alone (the real kernel path of a failed
 * accept4, not a mocked call). The loop must stop watching its listener rather than spin on
 * it, count the failure, and keep serving the connections it has.
 */
class AcceptFaultTest {
    @Test
    @Timeout(60)
    void shouldPauseAcceptingOnEnfileWithoutSpinningAndKeepServingOpenConnections() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(new Echo()).start()) {
            EventLoop loop = group.loops().get(0);
            try (Socket open = connect(group)) {
                open.setSoTimeout(10_000);
                echo(open, "before");
                CompletableFuture<Void> filtered = new CompletableFuture<>();
                loop.execute(() -> {
                    Seccomp.denyOnCurrentThread(Errno.ENFILE, SYS_accept4); // this loop thread only
                    filtered.complete(null);
                });
                filtered.get(10, TimeUnit.SECONDS);

                try (Socket refused = new Socket()) {
                    refused.connect(group.address(), 5000); // completes in the kernel's backlog
                    await("accept4 to fail with ENFILE", () -> loop.stats().acceptFailures() > 0);

                    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                    long loopThread = loop.thread().threadId();
                    long cpuBefore = threads.getThreadCpuTime(loopThread);
                    long failuresBefore = loop.stats().acceptFailures();
                    long wallBefore = System.nanoTime();
                    Thread.sleep(1500);
                    double share = (double) (threads.getThreadCpuTime(loopThread) - cpuBefore)
                            / (System.nanoTime() - wallBefore);
                    assertTrue(share < 0.25, "the loop used " + Math.round(share * 100)
                            + "% of a CPU while accept4 failed; a spinning loop uses 100%");
                    long retries = loop.stats().acceptFailures() - failuresBefore;
                    assertTrue(retries > 0 && retries <= 1500 / 100 + 5,
                            "accept retried once per 100 ms pause, not in a loop: " + retries + " in 1.5 s");
                    echo(open, "still served");
                    assertTrue(loop.stats().loopFailures() == 0, "no failure escaped the loop pass");
                }
            }
        }
    }

    private static void echo(Socket s, String text) throws Exception {
        s.getOutputStream().write(text.getBytes());
        assertArrayEquals(text.getBytes(), s.getInputStream().readNBytes(text.length()), "echoed: " + text);
    }
}
