package dev.keel.bench.echo;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;

/** Netty 4.2 echo server on the native epoll transport, one loop: {@code NettyEpollEcho PORT}. */
public final class NettyEpollEcho {
    private NettyEpollEcho() {
    }

    public static void main(String[] args) throws InterruptedException {
        Epoll.ensureAvailability();
        NettyEcho.serve("netty-epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, args);
    }
}
