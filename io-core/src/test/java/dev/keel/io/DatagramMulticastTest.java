package dev.keel.io;

import dev.keel.ffm.Sched;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.CLONE_NEWNET;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Multicast on both transports inside a network namespace the test makes for itself: the loop
 * thread alone moves into a new namespace (unshare(CLONE_NEWNET) on that thread), whose only
 * interface, lo, is brought up with multicast on and a route for 224.0.0.0/4 (ip, run in the
 * thread's namespace by nsenter). A receiver joins 239.1.2.3 and hears a sender's datagram,
 * then leaves and hears only a unicast marker sent after a second group datagram.
 */
class DatagramMulticastTest {
    private static final InetAddress GROUP = address("239.1.2.3");

    private static InetAddress address(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void inLoop(EventLoop loop, Runnable r) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                r.run();
                done.complete(null);
            } catch (RuntimeException | Error e) {
                done.completeExceptionally(e);
            }
        });
        done.get(20, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldJoinHearAndLeaveAGroupInsideItsOwnNamespace(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        try (EventLoopGroup g = EventLoopGroup.builder().unpinned().noReservations().transport(transport)
                .withoutListener().start(); Arena arena = Arena.ofShared()) {
            EventLoop loop = g.loops().get(0);
            int[] tid = new int[1];
            try {
                inLoop(loop, () -> {
                    Sched.unshare(CLONE_NEWNET);
                    tid[0] = Sched.gettid();
                });
            } catch (java.util.concurrent.ExecutionException e) {
                Assumptions.abort("cannot make a network namespace here: " + e.getCause().getMessage());
            }
            String ns = "--net=/proc/" + ProcessHandle.current().pid() + "/task/" + tid[0] + "/ns/net";
            Process ip = new ProcessBuilder("nsenter", ns, "sh", "-c",
                    "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo")
                    .redirectErrorStream(true).start();
            String ipOut = new String(ip.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, ip.waitFor(), "setting up lo in the namespace: " + ipOut);

            BlockingQueue<String> heard = new LinkedBlockingQueue<>();
            DatagramHandler receiver = (e, d) -> {
                byte[] b = new byte[d.length()];
                MemorySegment.copy(d.payload(), ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
                heard.add(new String(b, StandardCharsets.US_ASCII));
            };
            MemorySegment first = arena.allocateFrom("to the group", StandardCharsets.US_ASCII);
            MemorySegment second = arena.allocateFrom("after leaving", StandardCharsets.US_ASCII);
            MemorySegment marker = arena.allocateFrom("unicast marker", StandardCharsets.US_ASCII);
            DatagramEndpoint[] e = new DatagramEndpoint[2];
            inLoop(loop, () -> {
                e[0] = loop.openDatagram(new InetSocketAddress(address("0.0.0.0"), 0),
                        DatagramOptions.builder().reusePort(false).build(), receiver);
                e[0].joinGroup(GROUP, 1); // lo is interface 1 of a new namespace
                e[1] = loop.openDatagram(new InetSocketAddress(address("127.0.0.1"), 0),
                        DatagramOptions.builder().reusePort(false).build(), (x, d) -> { });
                e[1].multicastLoopback(true);
                e[1].multicastTtl(1);
                e[1].sendTo(new InetSocketAddress(GROUP, e[0].localPort()), first, 0, first.byteSize() - 1);
            });
            assertEquals("to the group", heard.poll(20, TimeUnit.SECONDS), "the member hears the group");
            inLoop(loop, () -> {
                e[0].leaveGroup(GROUP, 1);
                e[1].sendTo(new InetSocketAddress(GROUP, e[0].localPort()), second, 0, second.byteSize() - 1);
                e[1].sendTo(new InetSocketAddress(address("127.0.0.1"), e[0].localPort()), marker, 0,
                        marker.byteSize() - 1);
            });
            assertEquals("unicast marker", heard.poll(20, TimeUnit.SECONDS),
                    "after leaving, the group's datagram (sent before the marker) is not heard");
        }
    }
}
