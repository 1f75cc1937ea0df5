/**
 * keel's reactors: pinned event loops over epoll or io_uring with off-heap connection state.
 *
 * <p>Exports the API a user touches ({@code dev.keel.io}: the group, its loops, connections,
 * handlers, options, transports, close reasons, live counters and JFR events), the framers
 * ({@code dev.keel.io.codec}) and the read side
 * of the counters ({@code dev.keel.io.stats}: snapshots and Prometheus text). The loop's machinery
 * ({@code dev.keel.io.loop}) and the transports ({@code dev.keel.io.epoll},
 * {@code dev.keel.io.uring}) are not exported; the SO_REUSEPORT listeners
 * ({@code dev.keel.io.listen}) only to zerocopy, whose splice proxy opens its own.
 *
 * <p>Makes no restricted FFM call itself: every downcall goes through {@code dev.keel.ffm}, the
 * one module granted native access.
 */
@SuppressWarnings("module") // the qualified export names dev.keel.zerocopy, built after this module
module dev.keel.io {
    requires transitive dev.keel.ffm;
    requires transitive dev.keel.affinity;
    requires dev.keel.numa;
    requires org.jctools.core.jdk11;
    requires jdk.jfr;

    exports dev.keel.io;
    exports dev.keel.io.stats;
    exports dev.keel.io.codec;
    exports dev.keel.io.listen to dev.keel.zerocopy;
}
