package dev.keel.bench.echo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The JDK NIO peer of the echo benchmark: one thread, one {@link Selector}, one direct read
 * buffer shared by all connections. Bytes a socket does not take are kept in a per-connection
 * direct buffer (the key's attachment) and sent on OP_WRITE; while some are kept the
 * connection is not read, so a slow reader cannot grow the server's memory without bound.
 *
 * <p>{@code JdkNioEcho PORT}
 */
public final class JdkNioEcho {
    private static final int READ_BUFFER = 64 * 1024;

    private final Selector selector;
    private final ServerSocketChannel server;
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER);

    private JdkNioEcho(int port) throws IOException {
        selector = Selector.open();
        server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        server.bind(new InetSocketAddress(EchoArgs.LOOPBACK, port), EchoArgs.BACKLOG);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
    }

    public static void main(String[] args) throws IOException {
        int port = EchoArgs.port(args, "jdk-nio");
        JdkNioEcho echo = new JdkNioEcho(port);
        System.out.println("jdk-nio listening on 127.0.0.1:" + port + " (1 selector thread)");
        System.out.flush();
        echo.run();
    }

    private void run() throws IOException {
        while (true) {
            // select(Consumer) hands each ready key over without building the selected-key set.
            selector.select(this::ready);
        }
    }

    private void ready(SelectionKey key) {
        try {
            if (key.isAcceptable()) {
                accept();
                return;
            }
            if (key.isWritable()) {
                flushPending(key);
            }
            if (key.isValid() && key.isReadable() && key.attachment() == null) {
                readAndEcho(key);
            }
        } catch (IOException e) {
            close(key); // reset by the peer or similar: that connection ends, the server goes on
        }
    }

    private void accept() throws IOException {
        SocketChannel c;
        while ((c = server.accept()) != null) {
            c.configureBlocking(false);
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.register(selector, SelectionKey.OP_READ);
        }
    }

    private void readAndEcho(SelectionKey key) throws IOException {
        SocketChannel c = (SocketChannel) key.channel();
        readBuffer.clear();
        int n = c.read(readBuffer);
        if (n < 0) {
            close(key);
            return;
        }
        if (n == 0) {
            return;
        }
        readBuffer.flip();
        c.write(readBuffer);
        if (readBuffer.hasRemaining()) {
            ByteBuffer pending = ByteBuffer.allocateDirect(readBuffer.remaining());
            pending.put(readBuffer).flip();
            key.attach(pending);
            key.interestOps(SelectionKey.OP_WRITE);
        }
    }

    private void flushPending(SelectionKey key) throws IOException {
        ByteBuffer pending = (ByteBuffer) key.attachment();
        if (pending == null) {
            key.interestOps(SelectionKey.OP_READ);
            return;
        }
        ((SocketChannel) key.channel()).write(pending);
        if (!pending.hasRemaining()) {
            key.attach(null);
            key.interestOps(SelectionKey.OP_READ);
        }
    }

    private static void close(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
