package dev.keel.zerocopy.proxy;

import dev.keel.io.CloseReason;
import dev.keel.io.ConnectOptions;
import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * The handler of the proxy's accepted (client) connections, shared by its loops: each accepted
 * connection gets a {@link ProxySession} and an upstream connect on its own loop, and its
 * events go to that session. Holds nothing mutable of its own but each loop's counters, which
 * only that loop's thread writes.
 */
final class ProxyHandler implements ConnectionHandler {
    private final InetSocketAddress upstream;
    private final ConnectOptions connect;
    private final ProxyCounters[] counters;

    ProxyHandler(InetSocketAddress upstream, ConnectOptions connect, ProxyCounters[] counters) {
        this.upstream = upstream;
        this.connect = connect;
        this.counters = counters;
    }

    @Override
    public void onOpen(Connection client) {
        ProxyCounters k = counters[client.loop().index()];
        k.opened++;
        ProxySession session = new ProxySession(k, client);
        client.attach(session);
        client.pauseReading(); // until the upstream connection is open
        // Last: a refusal known at once fails the connect (and resets the client) right here.
        client.loop().connect(upstream, session, connect);
    }

    @Override
    public void onData(Connection client, MemorySegment data) {
        ((ProxySession) client.attachment()).fromDownstream(data);
    }

    @Override
    public void onInputClosed(Connection client) {
        ((ProxySession) client.attachment()).downstreamInputClosed();
    }

    @Override
    public void onClose(Connection client, CloseReason reason) {
        ((ProxySession) client.attachment()).downstreamClosed(reason);
    }
}
