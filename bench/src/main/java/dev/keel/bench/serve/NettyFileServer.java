package dev.keel.bench.serve;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The Netty 4.2 peer of the serve benchmark: a static file server on Netty's native epoll
 * transport, one event loop that accepts and serves. HTTP/1.1 keep-alive, GET and HEAD of
 * regular files under a root; the answer carries the fields {@code keel serve} sends (Server,
 * Date, Content-Type, Content-Length, Last-Modified, ETag, Accept-Ranges) and its body goes
 * out as a {@link DefaultFileRegion}, which the epoll transport sends with sendfile(2).
 * Open files are cached like nginx's and keel's open-file caches (see {@link OpenFiles}).
 * Deliberately small: no ranges, conditionals or directory indexes, which the benchmark
 * does not ask for.
 *
 * <pre>NettyFileServer PORT ROOT</pre>
 */
public final class NettyFileServer implements AutoCloseable {
    // Spelled as keel and nginx spell them (Netty's HttpHeaderNames are lower case), so the
    // answers are the same size on the wire.
    private static final AsciiString SERVER = AsciiString.cached("Server");
    private static final AsciiString NETTY = AsciiString.cached("netty");
    private static final AsciiString DATE = AsciiString.cached("Date");
    private static final AsciiString CONTENT_TYPE = AsciiString.cached("Content-Type");
    private static final AsciiString CONTENT_LENGTH = AsciiString.cached("Content-Length");
    private static final AsciiString LAST_MODIFIED = AsciiString.cached("Last-Modified");
    private static final AsciiString ETAG = AsciiString.cached("ETag");
    private static final AsciiString ACCEPT_RANGES = AsciiString.cached("Accept-Ranges");

    private final MultiThreadIoEventLoopGroup group;
    private final Channel listener;

    private NettyFileServer(MultiThreadIoEventLoopGroup group, Channel listener) {
        this.group = group;
        this.listener = listener;
    }

    /** Binds 127.0.0.1:{@code port} (0 for any free port) and serves files under {@code root}. */
    public static NettyFileServer start(Path root, int port) throws InterruptedException {
        Epoll.ensureAvailability();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        OpenFiles files = new OpenFiles(root.toAbsolutePath().normalize());
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<EpollSocketChannel>() {
                        @Override
                        protected void initChannel(EpollSocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new FileHandler(files));
                        }
                    });
            Channel ch = b.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync().channel();
            return new NettyFileServer(group, ch);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The port it listens on. */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: NettyFileServer PORT ROOT");
            System.exit(2);
        }
        NettyFileServer server = start(Path.of(args[1]), Integer.parseInt(args[0]));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("netty-file listening on 127.0.0.1:" + server.port() + " (1 loop, epoll, sendfile)");
        System.out.flush();
        server.listener.closeFuture().sync();
    }

    /** One connection's requests: the answer's head, then the file as a region, then the end. */
    private static final class FileHandler extends SimpleChannelInboundHandler<HttpObject> {
        private final OpenFiles files;

        FileHandler(OpenFiles files) {
            this.files = files;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (!(msg instanceof HttpRequest req)) {
                return; // a GET's (empty) content parts
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!req.decoderResult().isSuccess()) {
                error(ctx, HttpResponseStatus.BAD_REQUEST, false);
                return;
            }
            HttpMethod method = req.method();
            boolean head = HttpMethod.HEAD.equals(method);
            if (!head && !HttpMethod.GET.equals(method)) {
                error(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, keepAlive);
                return;
            }
            OpenFiles.OpenFile file = files.lookup(req.uri());
            if (file == null) {
                error(ctx, HttpResponseStatus.NOT_FOUND, keepAlive);
                return;
            }
            HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpHeaders h = res.headers();
            h.set(SERVER, NETTY);
            h.set(DATE, files.date());
            h.set(CONTENT_TYPE, file.contentType);
            h.set(CONTENT_LENGTH, file.size);
            h.set(LAST_MODIFIED, file.lastModified);
            h.set(ETAG, file.etag);
            h.set(ACCEPT_RANGES, HttpHeaderValues.BYTES);
            HttpUtil.setKeepAlive(res, keepAlive);
            ctx.write(res, ctx.voidPromise());
            if (!head && file.size > 0) {
                ctx.write(new CachedRegion(file), ctx.voidPromise());
            }
            if (keepAlive) {
                ctx.write(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
            } else {
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush(); // once per batch of reads, as Netty's examples do
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a peer reset ends the connection, not the server
        }

        private static void error(ChannelHandlerContext ctx, HttpResponseStatus status, boolean keepAlive) {
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
            res.headers().set(SERVER, NETTY);
            res.headers().set(CONTENT_LENGTH, 0);
            if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
                res.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            }
            HttpUtil.setKeepAlive(res, keepAlive);
            if (keepAlive) {
                ctx.write(res, ctx.voidPromise());
            } else {
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    /**
     * The whole of a cached open file as a region. It holds a reference to the file for as long
     * as Netty holds the region, and gives it back instead of closing the channel when done.
     */
    private static final class CachedRegion extends DefaultFileRegion {
        private final OpenFiles.OpenFile file;

        CachedRegion(OpenFiles.OpenFile file) {
            super(file.channel, 0, file.size);
            this.file = file;
            file.retain();
        }

        @Override
        protected void deallocate() {
            file.release();
        }
    }
}
