package dev.keel.bench.echo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;

import java.net.InetSocketAddress;

/**
 * The Netty 4.2 echo server of the echo benchmark, on whichever native transport the caller
 * names: one event loop that both accepts and serves, TCP_NODELAY, Netty's default allocator,
 * the handler of Netty's own echo example (write on read, flush once per read batch).
 */
final class NettyEcho {
    private NettyEcho() {
    }

    /** Echoes what it reads; flushes once per batch of reads, as Netty's EchoServerHandler does. */
    @ChannelHandler.Sharable
    static final class EchoHandler extends ChannelInboundHandlerAdapter {
        static final EchoHandler INSTANCE = new EchoHandler();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a peer reset ends the connection, not the benchmark
        }
    }

    /** Binds 127.0.0.1:{@code port}, prints one ready line and serves until the JVM is stopped. */
    static void serve(String name, IoHandlerFactory io, Class<? extends ServerChannel> channel, String[] args)
            throws InterruptedException {
        int port = EchoArgs.port(args, name);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, io);
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(channel)
                    .option(ChannelOption.SO_BACKLOG, EchoArgs.BACKLOG)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(EchoHandler.INSTANCE);
            ChannelFuture bound = b.bind(new InetSocketAddress(EchoArgs.LOOPBACK, port)).sync();
            System.out.println(name + " listening on 127.0.0.1:" + port + " (1 loop, " + channel.getSimpleName() + ")");
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> group.shutdownGracefully(0, 1,
                    java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly()));
            bound.channel().closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }
}
