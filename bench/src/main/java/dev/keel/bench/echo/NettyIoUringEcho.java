package dev.keel.bench.echo;

import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;

/**
 * Netty 4.2 echo server on the native io_uring transport with its default configuration, one
 * loop: {@code NettyIoUringEcho PORT}.
 */
public final class NettyIoUringEcho {
    private NettyIoUringEcho() {
    }

    public static void main(String[] args) throws InterruptedException {
        IoUring.ensureAvailability();
        NettyEcho.serve("netty-io_uring", IoUringIoHandler.newFactory(), IoUringServerSocketChannel.class, args);
    }
}
