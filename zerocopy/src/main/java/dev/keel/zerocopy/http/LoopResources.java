package dev.keel.zerocopy.http;

import dev.keel.io.Connection;
import dev.keel.zerocopy.tls.TlsConnection;
import dev.keel.zerocopy.tls.TlsContext;
import dev.keel.zerocopy.tls.TlsIo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * Everything one loop of the file server owns: the request and path flyweights, the response
 * head buffer, the open-file cache and its resolver, the header deadlines, and
 * pools of sessions and input buffers. Made on the loop thread at its first connection, used only there, and closed
 * by the server after the loop has stopped (hence a shared arena: the closing thread is
 * another one).
 */
final class LoopResources implements AutoCloseable {
    private static final int MAX_IDLE_SESSIONS = 1024;
    private static final int MAX_IDLE_BUFFERS = 256;
    private static final int MAX_PATH = 4096;
    private static final int MAX_RANGES = 16;
    /** Bytes of a file body read per pread(2) on an HTTPS server, then encrypted record by record. */
    static final int TLS_FILE_BUFFER = 64 * 1024;

    final int index;
    final Arena arena = Arena.ofShared();
    final HttpRequestParser parser;
    final HttpRequest request = new HttpRequest();
    final RequestPath path;
    final ByteRanges ranges = new ByteRanges(MAX_RANGES);
    final ResponseHead head;
    /** No head: before a file region's later chunks, which follow bytes already queued. */
    final MemorySegment emptyHead;
    final FileResolver resolver;
    final OpenFileCache cache;
    final AccessLog.Ring log;
    final MemorySegment peerAddress;
    /** The loop's TLS buffers on an HTTPS server, else null. */
    final TlsIo tls;
    /** Where file bodies are read to be encrypted, on an HTTPS server, else null. */
    final MemorySegment tlsFileBuffer;
    private final TlsContext tlsContext;
    private final ArrayDeque<TlsConnection> tlsConnections = new ArrayDeque<>();
    /** Page-cache probes before sendfile, when read-ahead is on. */
    final Residency residency;
    /** Heads in progress, for the header timeout. */
    final HeaderDeadlines heads;
    /** The coding of the variant {@link Precompressed#variant} chose last ({@link ContentCoding}). */
    int coding = ContentCoding.IDENTITY;
    /** Bytes an input buffer holds: a full head plus one read behind it. */
    final int inputCapacity;
    private final ArrayDeque<HttpSession> sessions = new ArrayDeque<>();
    private final ArrayDeque<MemorySegment> buffers = new ArrayDeque<>();

    LoopResources(int index, ServerConfig config, int readBufferBytes, HeaderDeadlines.Expired headerTimeout) {
        this.index = index;
        this.parser = new HttpRequestParser(config.maxRequestLine(), config.maxHeadBytes(), config.maxHeaders());
        this.path = new RequestPath(arena.allocate(MAX_PATH + 64L), MAX_PATH);
        this.head = new ResponseHead(arena.allocate(config.maxRequestLine() + 16L * 1024, 64));
        this.emptyHead = head.buffer().asSlice(0, 0);
        this.resolver = new FileResolver(config.rootFd(), config.refuseSymlinks(), config.useOpenat2(), arena);
        this.cache = new OpenFileCache(resolver, arena, config.cacheEntries(), config.cacheValidityNanos(),
                config.smallFileMax(), config.bodyBudget());
        this.log = config.accessLog() == null ? null : config.accessLog().ring(index);
        this.peerAddress = arena.allocate(dev.keel.ffm.SocketAddresses.STORAGE_SIZE, 8);
        this.inputCapacity = config.maxHeadBytes() + readBufferBytes;
        this.residency = new Residency(arena);
        this.tlsContext = config.tls();
        this.tls = tlsContext == null ? null : new TlsIo();
        this.tlsFileBuffer = tlsContext == null ? null : arena.allocate(TLS_FILE_BUFFER, 4096);
        this.heads = new HeaderDeadlines(config.headerTimeoutNanos(), headerTimeout);
    }

    HttpSession session() {
        HttpSession s = sessions.pollFirst();
        return s != null ? s : new HttpSession();
    }

    /**
     * A TLS engine for connection {@code c}, opened on the context's current certificate. Where
     * the context tries kernel TLS and the transport lends the socket
     * ({@link Connection#lendForKernelTls}: epoll, or io_uring without direct descriptors),
     * OpenSSL writes the handshake to the socket itself and keeps the kernel's encryption
     * after it if the kernel takes the keys; otherwise, and on every other connection, the
     * engine sits between memory BIOs and its records go out with {@code Connection.write}.
     */
    TlsConnection tlsConnection(Connection c) {
        TlsConnection t = tlsConnections.pollFirst();
        if (t == null) {
            t = new TlsConnection(tlsContext);
        }
        int fd = tlsContext.attemptsKernelTls() ? c.lendForKernelTls() : -1;
        if (fd >= 0) {
            t.openWithSocketWrites(fd);
        } else {
            t.open();
        }
        return t;
    }

    /** Frees {@code t}'s OpenSSL state and pools the object. */
    void recycle(TlsConnection t) {
        t.free();
        if (tlsConnections.size() < MAX_IDLE_SESSIONS) {
            tlsConnections.addFirst(t);
        }
    }

    void recycle(HttpSession s) {
        s.connection = null;
        s.file = null;
        if (sessions.size() < MAX_IDLE_SESSIONS) {
            sessions.addFirst(s);
        }
    }

    /**
     * An input buffer. From an automatic arena rather than the loop's: buffers are wanted only
     * by connections with input pending, so the pool stays small, and ones dropped past its
     * bound are freed by the collector.
     */
    MemorySegment buffer() {
        MemorySegment b = buffers.pollFirst();
        return b != null ? b : Arena.ofAuto().allocate(inputCapacity, 64);
    }

    void recycle(MemorySegment buffer) {
        if (buffers.size() < MAX_IDLE_BUFFERS) {
            buffers.addFirst(buffer);
        }
    }

    /** Off-heap bytes of the input buffers pooled and idle now (bounded by the pool's size). */
    long idleBufferBytes() {
        return (long) buffers.size() * inputCapacity;
    }

    /** Closes cached files and frees the loop's memory; after the loop stopped. */
    @Override
    public void close() {
        cache.close();
        if (tls != null) {
            tls.close();
        }
        arena.close();
    }
}
