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
 * then leaves and hears only a unicast marker sent after a second group datagram; and the same
 * for a source-specific group, where a second source is never heard.
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

    /**
     * Moves {@code loop}'s thread into a new network namespace and brings its lo up with
     * multicast on and a route for 224.0.0.0/4; skips the test where namespaces cannot be made.
     */
    private static void intoOwnNamespace(EventLoop loop) throws Exception {
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
    }

    private static DatagramHandler collector(BlockingQueue<String> heard) {
        return (e, d) -> {
            byte[] b = new byte[d.length()];
            MemorySegment.copy(d.payload(), ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
            heard.add(new String(b, StandardCharsets.US_ASCII));
        };
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
            intoOwnNamespace(loop);

            BlockingQueue<String> heard = new LinkedBlockingQueue<>();
            DatagramHandler receiver = collector(heard);
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

    /**
     * Source-specific multicast (MCAST_JOIN_SOURCE_GROUP): the member of (232.1.2.3, 127.0.0.1)
     * hears that source and not another (127.0.0.2, also an address of lo), and after leaving
     * hears neither; each "not heard" is shown by a unicast marker sent after it arriving first.
     */
    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(60)
    void shouldHearOnlyTheJoinedSourceOfASourceSpecificGroup(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        InetAddress ssm = address("232.1.2.3");
        InetAddress source = address("127.0.0.1");
        InetAddress other = address("127.0.0.2");
        try (EventLoopGroup g = EventLoopGroup.builder().unpinned().noReservations().transport(transport)
                .withoutListener().start(); Arena arena = Arena.ofShared()) {
            EventLoop loop = g.loops().get(0);
            intoOwnNamespace(loop);
            BlockingQueue<String> heard = new LinkedBlockingQueue<>();
            MemorySegment fromSource = arena.allocateFrom("from the source", StandardCharsets.US_ASCII);
            MemorySegment fromOther = arena.allocateFrom("from another source", StandardCharsets.US_ASCII);
            MemorySegment marker = arena.allocateFrom("unicast marker", StandardCharsets.US_ASCII);
            DatagramOptions single = DatagramOptions.builder().reusePort(false).build();
            DatagramEndpoint[] e = new DatagramEndpoint[3];
            inLoop(loop, () -> {
                e[0] = loop.openDatagram(new InetSocketAddress(address("0.0.0.0"), 0), single, collector(heard));
                e[0].joinSourceGroup(ssm, source, 1);
                e[1] = loop.openDatagram(new InetSocketAddress(source, 0), single, (x, d) -> { });
                e[2] = loop.openDatagram(new InetSocketAddress(other, 0), single, (x, d) -> { });
                for (int i = 1; i <= 2; i++) {
                    e[i].multicastLoopback(true);
                    e[i].multicastTtl(1);
                }
                InetSocketAddress to = new InetSocketAddress(ssm, e[0].localPort());
                e[2].sendTo(to, fromOther, 0, fromOther.byteSize() - 1);
                e[2].sendTo(new InetSocketAddress(source, e[0].localPort()), marker, 0, marker.byteSize() - 1);
                e[1].sendTo(to, fromSource, 0, fromSource.byteSize() - 1);
            });
            // One socket's datagrams leave in order: the other source's marker follows its group datagram.
            assertEquals("from the source", heard.poll(20, TimeUnit.SECONDS), "the joined source is heard");
            assertEquals("unicast marker", heard.poll(20, TimeUnit.SECONDS), "the other source is filtered out");
            inLoop(loop, () -> {
                e[0].leaveSourceGroup(ssm, source, 1);
                e[1].sendTo(new InetSocketAddress(ssm, e[0].localPort()), fromSource, 0, fromSource.byteSize() - 1);
                e[1].sendTo(new InetSocketAddress(source, e[0].localPort()), marker, 0, marker.byteSize() - 1);
            });
            assertEquals("unicast marker", heard.poll(20, TimeUnit.SECONDS), "after leaving, the source is not heard");
        }
    }
}
