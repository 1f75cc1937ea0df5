package dev.keel.zerocopy.tls;

import dev.keel.io.CloseReason;
import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A test server speaking just enough HTTP over keel's TLS engine: every request head (up to the
 * empty line) is answered 200 with a body naming the TLS version, the ALPN protocol and whether
 * the session was resumed. One loop; handshakes must finish within {@code handshakeTimeout}.
 */
final class HelloOverTls implements ConnectionHandler {
    private final TlsContext context;
    private final Duration handshakeTimeout;
    private TlsIo io;

    HelloOverTls(TlsContext context, Duration handshakeTimeout) {
        this.context = context;
        this.handshakeTimeout = handshakeTimeout;
    }

    private static final class State {
        final TlsConnection tls;
        int matched;

        State(TlsConnection tls) {
            this.tls = tls;
        }
    }

    @Override
    public void onOpen(Connection c) {
        if (io == null) {
            io = new TlsIo();
        }
        State s = new State(new TlsConnection(context));
        s.tls.open();
        c.attach(s);
        c.loop().schedule(handshakeTimeout, () -> {
            if (c.isOpen() && !s.tls.established()) {
                s.tls.fail(TlsFailure.TIMEOUT, "no handshake within " + handshakeTimeout);
                c.abort();
            }
        });
    }

    @Override
    public void onData(Connection c, MemorySegment data) {
        State s = (State) c.attachment();
        if (io.feed(c, s.tls, data, 0, (int) data.byteSize()) != TlsIo.READY) {
            return;
        }
        int n;
        while ((n = io.read(c, s.tls)) > 0) {
            MemorySegment p = io.plaintext();
            for (int i = 0; i < n; i++) {
                byte b = p.get(JAVA_BYTE, i);
                s.matched = (b == '\r' && s.matched % 2 == 0) || (b == '\n' && s.matched % 2 == 1) ? s.matched + 1 : 0;
                if (s.matched == 4) {
                    s.matched = 0;
                    answer(c, s);
                    if (!c.isOpen()) {
                        return;
                    }
                }
            }
        }
        if (n == TlsIo.CLOSED && c.isOpen()) {
            c.close();
        }
    }

    private void answer(Connection c, State s) {
        String body = "version=" + Integer.toHexString(s.tls.protocolVersion()) + " alpn=" + s.tls.alpn()
                + " resumed=" + s.tls.sessionReused() + "\n";
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(head.length);
            MemorySegment.copy(MemorySegment.ofArray(head), 0, m, 0, head.length);
            io.write(c, s.tls, m, 0, head.length);
        }
    }

    @Override
    public void onInputClosed(Connection c) {
        State s = (State) c.attachment();
        if (!s.tls.established() && s.tls.failure() == null) {
            s.tls.fail(TlsFailure.PEER_CLOSED, "end of stream during the handshake");
        }
        c.close();
    }

    @Override
    public void onClose(Connection c, CloseReason reason) {
        State s = (State) c.attachment();
        if (!s.tls.established() && s.tls.failure() == null) {
            s.tls.fail(TlsFailure.PEER_CLOSED, "closed during the handshake: " + reason);
        }
        s.tls.free();
    }
}
