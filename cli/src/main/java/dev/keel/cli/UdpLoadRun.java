package dev.keel.cli;

import dev.keel.io.DatagramEndpoint;
import dev.keel.io.DatagramOptions;
import dev.keel.io.EventLoop;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;

import java.lang.foreign.Arena;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/**
 * One run of {@code keel load --udp}: like {@link LoadRun}, with a datagram endpoint connected to
 * the server per flow ({@link UdpLoadFlow}) instead of a TCP connection, at most
 * {@link DatagramEndpoint#MAX_PER_LOOP} per loop, and a loss check on every loop every
 * {@link #LOSS_CHECK}: a datagram without an echo after {@link #LOSS_TIMEOUT} is counted lost.
 */
final class UdpLoadRun {
    /** How long a datagram may go without its echo before it counts as lost. */
    static final Duration LOSS_TIMEOUT = Duration.ofMillis(500);
    private static final Duration LOSS_CHECK = Duration.ofMillis(10);

    private UdpLoadRun() {
    }

    static LoadRun.Result run(LoadRun.Settings s) throws InterruptedException {
        LoopOptions options = LoopOptions.builder().tick(s.rate() > 0 ? LoadRun.PACER_PERIOD : LOSS_CHECK).build();
        LoadLoop.Shared shared = new LoadLoop.Shared();
        try (Arena arena = Arena.ofShared(); EventLoopGroup group = LoadRun.clientGroup(s, options)) {
            int n = group.loops().size();
            if (s.connections() > n * DatagramEndpoint.MAX_PER_LOOP) {
                throw new UsageException("--connections with --udp: at most " + DatagramEndpoint.MAX_PER_LOOP
                        + " flows per loop, " + n * DatagramEndpoint.MAX_PER_LOOP + " over " + n + " loop"
                        + (n == 1 ? "" : "s"));
            }
            LoadPattern pattern = new LoadPattern(arena, s.size(), 42);
            LoadLoop[] loops = new LoadLoop[n];
            for (int i = 0; i < n; i++) {
                loops[i] = new LoadLoop(shared);
            }
            long interval = s.rate() > 0 ? Math.max(1, (long) (s.connections() * 1e9 / s.rate())) : 0;
            DatagramOptions datagrams = DatagramOptions.builder().connectTo(s.remote()).reusePort(false)
                    .maxDatagramSize(s.size()).sendQueue(Math.max(16, s.depth())).build();
            InetSocketAddress local = new InetSocketAddress(wildcard(s.remote().getAddress()), 0);
            for (int i = 0; i < s.connections(); i++) {
                UdpLoadFlow flow = new UdpLoadFlow(pattern, loops[i % n], i, s.size(), s.depth(), interval,
                        interval * i / s.connections(), LOSS_TIMEOUT.toNanos(), arena.allocate(s.size(), 8));
                EventLoop loop = group.loops().get(i % n);
                LoadLoop stats = loops[i % n];
                loop.execute(() -> {
                    try {
                        DatagramEndpoint e = loop.openDatagram(local, datagrams, flow);
                        flow.opened(e);
                    } catch (RuntimeException failure) {
                        stats.connectFailed("udp endpoint: " + failure.getMessage());
                    }
                });
            }
            // A loss check every LOSS_CHECK on each loop once the flows are open, until they all closed.
            long[] checks = new long[n];
            long nanos = LoadRun.measure(group, loops, s, shared, "udp endpoints", i -> checks[i] = group.loops()
                    .get(i).scheduleAtFixedRate(LOSS_CHECK, LOSS_CHECK, loops[i]::expire));
            // Each flow closes once its last datagrams came back or were given up on (the loss timeout).
            LoadRun.await(() -> shared.finished() >= s.connections(), LOSS_TIMEOUT.plusSeconds(20));
            LoadRun.onEachLoop(group, i -> group.loops().get(i).cancelTimer(checks[i]));
            group.close();
            return LoadRun.result(s, group, loops, nanos, shared, shared.lost.get(), shared.late.get(),
                    shared.dropped.get());
        }
    }

    /** The wildcard address of {@code remote}'s family: the client endpoints bind there, port 0. */
    private static InetAddress wildcard(InetAddress remote) {
        try {
            return InetAddress.getByName(remote instanceof Inet6Address ? "::" : "0.0.0.0");
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
