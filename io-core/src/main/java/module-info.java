/**
 * keel's reactors: pinned event loops over epoll or io_uring with off-heap connection state.
 * Exports the API a user touches; the transports and the loop's machinery stay inside.
 */
module dev.keel.io {
    requires transitive dev.keel.ffm;
    requires transitive dev.keel.affinity;
    requires dev.keel.numa;
    requires org.jctools.core.jdk11;
    requires jdk.jfr;
    requires java.management;

    exports dev.keel.io;
}
