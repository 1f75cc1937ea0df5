package dev.keel.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Many connections from one thread: opened (and optionally sent one request each), then
 * watched with one selector until the server closes them, or closed by the test. Test
 * plumbing for the idle-connection scenarios.
 */
final class IdleClients implements AutoCloseable {
    private final Selector selector;
    private final SocketChannel[] channels;
    private int open;

    IdleClients(int port, int count, String firstRequest) throws IOException {
        selector = Selector.open();
        channels = new SocketChannel[count];
        ByteBuffer request = ByteBuffer.wrap(firstRequest.getBytes(StandardCharsets.US_ASCII));
        try {
            for (int i = 0; i < count; i++) {
                SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                channels[i] = c;
                open++;
                if (request.capacity() > 0) {
                    c.write(request.duplicate());
                }
                c.configureBlocking(false);
                c.register(selector, SelectionKey.OP_READ);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    int open() {
        return open;
    }

    /**
     * Reads whatever the server sends and counts the connections it closes, until all are
     * closed or {@code seconds} pass; returns how many are still open.
     */
    int awaitClosedByServer(long seconds) throws IOException {
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (open > 0 && System.nanoTime() < deadline) {
            selector.select(200);
            for (SelectionKey key : selector.selectedKeys()) {
                SocketChannel c = (SocketChannel) key.channel();
                int n;
                do {
                    sink.clear();
                    try {
                        n = c.read(sink);
                    } catch (IOException e) {
                        n = -1; // a reset is a close
                    }
                } while (n > 0);
                if (n < 0) {
                    key.cancel();
                    c.close();
                    open--;
                }
            }
            selector.selectedKeys().clear();
        }
        return open;
    }

    @Override
    public void close() throws IOException {
        for (SocketChannel c : channels) {
            if (c != null) {
                c.close();
            }
        }
        open = 0;
        selector.close();
    }
}
