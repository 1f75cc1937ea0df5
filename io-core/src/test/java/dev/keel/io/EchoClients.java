package dev.keel.io;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Random;

/**
 * Drives many echo clients from one selector thread: each sends {@code bytesPerClient} bytes
 * of a pattern unique to it in random-sized chunks and checks every byte that comes back.
 */
final class EchoClients {
    private EchoClients() {
    }

    static byte patternByte(int client, long offset) {
        return (byte) (offset * 31 + client * 7 + (offset >>> 11));
    }

    /** Runs the clients to completion or throws; returns total bytes verified. */
    static long run(InetSocketAddress server, int clients, long bytesPerClient, int maxChunk, long seed,
                    long deadlineMillis) throws IOException {
        Random random = new Random(seed);
        long deadline = System.currentTimeMillis() + deadlineMillis;
        long verified = 0;
        try (Selector selector = Selector.open()) {
            State[] states = new State[clients];
            for (int i = 0; i < clients; i++) {
                SocketChannel ch = SocketChannel.open();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.connect(server);
                ch.configureBlocking(false);
                states[i] = new State(i, ch);
                ch.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE, states[i]);
            }
            int done = 0;
            ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
            ByteBuffer out = ByteBuffer.allocateDirect(maxChunk);
            while (done < clients) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("echo clients did not finish in time: " + done + "/" + clients + " done");
                }
                selector.select(200);
                for (SelectionKey key : selector.selectedKeys()) {
                    State s = (State) key.attachment();
                    if (key.isValid() && key.isWritable() && s.sent < bytesPerClient) {
                        int chunk = (int) Math.min(1 + random.nextInt(maxChunk), bytesPerClient - s.sent);
                        out.clear().limit(chunk);
                        for (int k = 0; k < chunk; k++) {
                            out.put(k, patternByte(s.id, s.sent + k));
                        }
                        int n = s.channel.write(out);
                        s.sent += n;
                        if (s.sent == bytesPerClient) {
                            key.interestOps(SelectionKey.OP_READ);
                        }
                    }
                    if (key.isValid() && key.isReadable()) {
                        in.clear();
                        int n = s.channel.read(in);
                        if (n < 0) {
                            throw new AssertionError("client " + s.id + " saw end of stream after " + s.received);
                        }
                        for (int k = 0; k < n; k++) {
                            byte expected = patternByte(s.id, s.received + k);
                            if (in.get(k) != expected) {
                                throw new AssertionError("client " + s.id + " byte " + (s.received + k) + " is "
                                        + in.get(k) + ", expected " + expected);
                            }
                        }
                        s.received += n;
                        verified += n;
                        if (s.received == bytesPerClient) {
                            key.cancel();
                            s.channel.close();
                            done++;
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        return verified;
    }

    private static final class State {
        final int id;
        final SocketChannel channel;
        long sent;
        long received;

        State(int id, SocketChannel channel) {
            this.id = id;
            this.channel = channel;
        }
    }
}
