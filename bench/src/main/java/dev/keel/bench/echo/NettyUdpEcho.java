package dev.keel.bench.echo;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;

/**
 * The Netty 4.2 UDP echo of the UDP benchmark ({@code bench/udp-bench.sh}): one epoll event
 * loop, one {@link EpollDatagramChannel} bound to 127.0.0.1:PORT. With
 * {@code MAX_DATAGRAM_PAYLOAD_SIZE} set, Netty reads with recvmmsg(2) up to
 * {@value #BATCH} datagrams of up to {@value #MAX_DATAGRAM} bytes at a time (the batch and
 * largest datagram of keel udp-echo and native/echo/c_udp_echo); the replies of one read batch
 * are flushed together, which Netty sends with sendmmsg(2).
 *
 * <p>{@code NettyUdpEcho PORT}
 */
public final class NettyUdpEcho {
    static final int BATCH = 32;
    static final int MAX_DATAGRAM = 2048;
    private static final int SOCKET_BUFFER = 4 << 20;

    private NettyUdpEcho() {
    }

    /** Writes each datagram back to its sender; flushes once per read batch. */
    @ChannelHandler.Sharable
    static final class EchoHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        static final EchoHandler INSTANCE = new EchoHandler();

        private EchoHandler() {
            super(false); // the content goes back out: released by the write
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ctx.write(new DatagramPacket(packet.content(), packet.sender()), ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Epoll.ensureAvailability();
        int port = EchoArgs.port(args, "netty-udp");
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Bootstrap b = new Bootstrap()
                    .group(group)
                    .channel(EpollDatagramChannel.class)
                    .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM * BATCH))
                    .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                    .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                    .handler(EchoHandler.INSTANCE);
            Channel channel = b.bind(new InetSocketAddress(EchoArgs.LOOPBACK, port)).sync().channel();
            System.out.println("netty-udp listening on 127.0.0.1:" + port + " (udp, 1 loop, EpollDatagramChannel, recvmmsg "
                    + BATCH + " x " + MAX_DATAGRAM + ")");
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> group.shutdownGracefully(0, 1,
                    java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly()));
            channel.closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }
}
