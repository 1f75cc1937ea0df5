/**
 * keel's reactors: pinned event loops over epoll or io_uring with off-heap connection state.
 *
 * <p>Exports the API a user touches ({@code dev.keel.io}: the group, its loops, connections,
 * handlers, options, transports, close reasons, live counters and JFR events), the framers
 * ({@code dev.keel.io.codec}), the read side of the counters ({@code dev.keel.io.stats}:
 * snapshots and Prometheus text), and the pipes that splice moves bytes through
 * ({@code dev.keel.io.pipe}: the io_uring transport's file regions and zerocopy's file
 * regions use them). The loop's machinery ({@code dev.keel.io.loop}), the SO_REUSEPORT
 * listeners ({@code dev.keel.io.listen}) and the transports ({@code dev.keel.io.epoll},
 * {@code dev.keel.io.uring}) are not exported.
 *
 * <p>Makes no restricted FFM call itself: every downcall goes through {@code dev.keel.ffm}, the
 * one module granted native access.
 */
module dev.keel.io {
    requires transitive dev.keel.ffm;
    requires transitive dev.keel.affinity;
    requires dev.keel.numa;
    requires org.jctools.core.jdk11;
    requires jdk.jfr;

    exports dev.keel.io;
    exports dev.keel.io.stats;
    exports dev.keel.io.codec;
    exports dev.keel.io.pipe;
}
