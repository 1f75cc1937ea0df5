package dev.keel.zerocopy.proxy;

/**
 * A proxied connection: the client's socket, the upstream socket (connecting at first), and
 * the two {@link SpliceDirection}s with their pipes. Interest masks are remembered so that
 * epoll_ctl runs only when one changes.
 */
final class ProxySession {
    final int id;
    int generation;
    int client = -1;
    int upstream = -1;
    boolean connecting;
    SpliceDirection toUpstream;
    SpliceDirection toClient;
    int clientInterest = -1;
    int upstreamInterest = -1;

    ProxySession(int id) {
        this.id = id;
    }

    boolean finished() {
        return toUpstream != null && toUpstream.finished() && toClient.finished();
    }
}
