package dev.keel.zerocopy.http;

import dev.keel.ffm.Files;
import dev.keel.ffm.SyscallException;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.zerocopy.LoopServerBuilder;
import dev.keel.zerocopy.tls.TlsContext;
import dev.keel.zerocopy.tls.TlsStats;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;

import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_DIRECTORY;
import static dev.keel.ffm.gen.LinuxConstants.O_PATH;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;

/**
 * A static file server: HTTP/1.1 over io-core's loops, file bodies handed to the transport as
 * file regions ({@link dev.keel.io.Connection#writeFile}: sendfile(2) on epoll, splice in the
 * ring on io_uring) so their bytes never pass through Java, small hot files from memory with
 * their head in one write. See {@link StaticFileHandler} for the request flow, {@link FileResolver} for how
 * paths are kept inside the root, {@link OpenFileCache} for the open-file cache.
 *
 * <pre>{@code
 * try (FileServer server = FileServer.builder().root(Path.of("site")).port(8080).start()) {
 *     ...
 * }
 * }</pre>
 */
public final class FileServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final StaticFileHandler handler;
    private final int rootFd;
    private final Path root;
    private final boolean openat2;
    private final AccessLog accessLog;
    private final ReadAhead readAhead;
    private final TlsContext tls;
    private boolean closed;

    private FileServer(EventLoopGroup group, StaticFileHandler handler, int rootFd, Path root, boolean openat2,
                       AccessLog accessLog, ReadAhead readAhead, TlsContext tls) {
        this.readAhead = readAhead;
        this.tls = tls;
        this.group = group;
        this.handler = handler;
        this.rootFd = rootFd;
        this.root = root;
        this.openat2 = openat2;
        this.accessLog = accessLog;
    }

    /** A builder with the defaults; {@link Builder#root} must be set before {@code start()}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * What {@link Builder#options} starts from, to adjust and build: {@link LoopOptions}' defaults
     * with 16 KiB read buffers (they hold the longest request head), a 60 s idle timeout on
     * kept-alive connections, and on io_uring direct descriptors (file bodies go through the
     * ring, so a connection needs no descriptor; epoll ignores the setting). With direct
     * descriptors the access log has no peer address to show: turn them off to log peers.
     */
    public static LoopOptions.Builder loopOptions() {
        return LoopOptions.builder().readBufferBytes(Builder.MIN_READ_BUFFER).idleTimeout(Duration.ofSeconds(60))
                .directDescriptors(true);
    }

    /** The address the server listens on. */
    public InetSocketAddress address() {
        return group.address();
    }

    /** The port the server listens on (the kernel's pick when the builder asked for 0). */
    public int port() {
        return group.port();
    }

    /** The CPU of each loop (-1: unpinned). */
    public int[] cpus() {
        return group.cpus();
    }

    /** The transport the loops run on. */
    public Transport transport() {
        return group.transport();
    }

    /** The served directory, absolute and normalised. */
    public Path root() {
        return root;
    }

    /** Whether paths are resolved with openat2(2) (true) or the O_NOFOLLOW walk. */
    public boolean usesOpenat2() {
        return openat2;
    }

    /** The loops, for statistics and tests. */
    public EventLoopGroup group() {
        return group;
    }

    /**
     * Cold chunks read off the loops so far: {@code [submitted, completed, refused (queue full:
     * sent at once), bytes read]}; all zero when read-ahead is off.
     */
    public long[] readAheadCounts() {
        if (readAhead == null) {
            return new long[4];
        }
        return new long[] {readAhead.submitted(), readAhead.completed(), readAhead.refused(), readAhead.bytesRead()};
    }

    /** The TLS counters (handshakes, failures by reason), or null for a plain HTTP server. */
    public TlsStats tlsStats() {
        return tls == null ? null : tls.stats();
    }

    /** The TLS context, or null for a plain HTTP server. */
    public TlsContext tls() {
        return tls;
    }

    /** The read-ahead pool, or null when off (tests). */
    ReadAhead readAhead() {
        return readAhead;
    }

    /** Loop {@code i}'s resources, or null before its first connection; touch them on its thread only (tests). */
    LoopResources resources(int i) {
        return handler.allResources()[i];
    }

    /** Stops the loops (closing every connection), then closes cached files, pipes, the root and the log. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            group.close();
        } finally {
            for (LoopResources r : handler.allResources()) {
                if (r != null) {
                    r.close();
                }
            }
            Files.close(rootFd);
            if (accessLog != null) {
                accessLog.close();
            }
            if (readAhead != null) {
                readAhead.close();
            }
        }
    }

    /** Settings; {@link #start()} checks the root, binds and starts the loops. */
    public static final class Builder extends LoopServerBuilder<Builder> {
        /** The longest request head (431 past it), and so the smallest read buffer. */
        public static final int MIN_READ_BUFFER = 16 * 1024;
        private Path root;
        private Duration headerTimeout = Duration.ofSeconds(10);
        private int maxRequests = 1000;
        private boolean refuseSymlinks;
        private Boolean openat2;
        private int cacheEntries = 1024;
        private Duration cacheValidity = Duration.ofSeconds(1);
        private int smallFileMax = 8 * 1024;
        private long smallFileBudget = 32L * 1024 * 1024;
        private Path accessLog;
        private boolean precompressed;
        private TlsContext tls;
        private int readAheadThreads = 2;
        private int readAheadQueue = 256;

        private Builder() {
            super(FileServer.loopOptions().build());
        }

        /** The directory to serve (required). */
        public Builder root(Path dir) {
            root = Objects.requireNonNull(dir);
            return this;
        }

        /**
         * The loops' options: connections per loop, buffers, idle timeout, io_uring settings and
         * the rest of {@link LoopOptions} (default {@link FileServer#loopOptions()}). Their read buffers
         * hold a request head whole, so they must be at least {@value #MIN_READ_BUFFER} bytes.
         */
        @Override
        public Builder options(LoopOptions loopOptions) {
            Objects.requireNonNull(loopOptions, "options");
            if (loopOptions.readBufferBytes() < MIN_READ_BUFFER) {
                throw new IllegalArgumentException("the file server's read buffers hold a request head (up to "
                        + MIN_READ_BUFFER + " bytes); readBufferBytes " + loopOptions.readBufferBytes() + " is smaller");
            }
            return super.options(loopOptions);
        }

        /**
         * Slowloris defence, nginx's {@code client_header_timeout}: a request head must arrive
         * whole within this time of its first byte, else the server answers 408 and closes the
         * connection (default 10 s; zero turns it off). The idle timeout alone cannot do this:
         * a client sending one header byte every few seconds is never idle.
         */
        public Builder headerTimeout(Duration d) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("header timeout must not be negative: " + d);
            }
            headerTimeout = d;
            return this;
        }

        /** Requests on one connection before the server closes it (default 1000). */
        public Builder maxRequestsPerConnection(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("max requests must be positive: " + n);
            }
            maxRequests = n;
            return this;
        }

        /** Refuse every symlink, not only those leading out of the root (default off). */
        public Builder refuseSymlinks(boolean on) {
            refuseSymlinks = on;
            return this;
        }

        /** Force openat2 on or off; default: probed at start (off where the kernel lacks it). */
        public Builder openat2(boolean on) {
            openat2 = on;
            return this;
        }

        /**
         * The open-file cache: at most {@code entries} files kept open per loop (default 1024;
         * 0 turns the cache off and every request opens its file), each trusted for
         * {@code validity} (default 1 s) before its path is resolved and its identity (inode,
         * size, modification time) checked again. The capacity bounds the descriptors: with no
         * transfer in progress a loop holds at most {@code entries} files open, each once per
         * name it was asked by ({@code /} and {@code /index.html} are two). A file replaced or
         * rewritten is served fresh from the first request after its entry's validity ran out:
         * a client may see the old content for up to {@code validity}; zero checks on every
         * request (one open and one fstat each, never a stale answer). Out of descriptors
         * (EMFILE), the cache closes its least recently used half and tries once more.
         */
        public Builder fileCache(int entries, Duration validity) {
            if (entries < 0) {
                throw new IllegalArgumentException("cache entries must be >= 0");
            }
            if (validity.isNegative()) {
                throw new IllegalArgumentException("cache validity must not be negative: " + validity);
            }
            cacheEntries = entries;
            cacheValidity = Objects.requireNonNull(validity);
            return this;
        }

        /**
         * Files up to {@code maxBytes} are held in memory, {@code budget} bytes per loop at most
         * (default 8 KiB, 32 MiB), and sent with their head in one writev(2). Past a few KiB
         * the copy into the socket costs more than the extra syscall of send + sendfile.
         */
        public Builder smallFiles(int maxBytes, long budget) {
            smallFileMax = maxBytes;
            smallFileBudget = budget;
            return this;
        }

        /**
         * Serve precompressed variants ({@code a.css.br}, {@code .zst}, {@code .gz} beside
         * {@code a.css}) to clients whose Accept-Encoding takes them (default off: each request
         * for a file without variants then costs up to three failed opens, and a site must have
         * made its variants on purpose). See {@link Precompressed}.
         */
        public Builder precompressed(boolean on) {
            precompressed = on;
            return this;
        }

        /**
         * Cold files: before each chunk of a body is handed to the transport, its first and last
         * pages are checked in the page cache ({@link Residency}); a cold chunk is read by one
         * of {@code threads} reader threads ({@link ReadAhead}, at most {@code queue} chunks
         * waiting) while the loop serves its other connections, and sent once cached. Default
         * 2 threads, 256 chunks; 0 threads turns it off (a cold chunk is then read by the
         * transport on the loop thread, stalling that loop's connections for as long as the disk takes).
         */
        public Builder readAhead(int threads, int queue) {
            if (threads < 0 || threads > 0 && queue <= 0) {
                throw new IllegalArgumentException("read-ahead: threads >= 0 and a positive queue");
            }
            readAheadThreads = threads;
            readAheadQueue = queue;
            return this;
        }

        /**
         * Speak HTTPS with {@code context}'s certificate (default: plain HTTP). The context is
         * the caller's: it outlives the server and is closed by the caller, and
         * {@link TlsContext#reload()} on it is seen by new connections. Bodies are read into an
         * off-heap buffer of the loop with pread(2), encrypted there and written with
         * {@code Connection.write}; where the context uses kernel TLS and the transport lends the
         * socket, the kernel encrypts and bodies go out with sendfile like plain HTTP (see the
         * README).
         */
        public Builder tls(TlsContext context) {
            tls = context;
            return this;
        }

        /**
         * Log requests to {@code file}, asynchronously (default: no log). On io_uring with direct
         * descriptors (the default options) the peer address is left empty: there is no
         * descriptor to ask getpeername(2).
         */
        public Builder accessLog(Path file) {
            accessLog = file;
            return this;
        }

        /**
         * Checks the root (it must exist, be a directory and be readable: otherwise an
         * {@link IllegalArgumentException} saying which), binds and starts.
         */
        public FileServer start() {
            Objects.requireNonNull(root, "root");
            Path dir = root.toAbsolutePath().normalize();
            int rootFd = openRoot(dir);
            AccessLog log = null;
            ReadAhead readAhead = null;
            try {
                readAhead = readAheadThreads > 0 ? new ReadAhead(readAheadThreads, readAheadQueue) : null;
                boolean useOpenat2 = openat2 != null ? openat2 : FileResolver.openat2Available(rootFd);
                log = accessLog == null ? null : AccessLog.open(accessLog);
                byte[] boundary = ("keel-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(8)))
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                ServerConfig config = new ServerConfig(rootFd, refuseSymlinks, useOpenat2, maxRequests, 8192, MIN_READ_BUFFER,
                        100, 64 * 1024, headerTimeout.toNanos(), cacheEntries, cacheValidity.toNanos(), smallFileMax,
                        smallFileBudget, log, boundary, readAhead, tls, precompressed);
                StaticFileHandler handler = new StaticFileHandler(config, loopCount(), chosenOptions().readBufferBytes());
                return new FileServer(group(handler).start(), handler, rootFd, dir, useOpenat2, log, readAhead, tls);
            } catch (RuntimeException e) {
                Files.close(rootFd);
                if (readAhead != null) {
                    readAhead.close();
                }
                if (log != null) {
                    log.close();
                }
                throw e;
            }
        }

        private static int openRoot(Path dir) {
            if (!java.nio.file.Files.exists(dir)) {
                throw new IllegalArgumentException("root " + dir + " does not exist");
            }
            if (!java.nio.file.Files.isDirectory(dir)) {
                throw new IllegalArgumentException("root " + dir + " is not a directory");
            }
            try {
                // A readable directory opens O_RDONLY; the server keeps only an O_PATH handle.
                Files.close(Files.open(dir.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
                return Files.open(dir.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
            } catch (SyscallException e) {
                throw new IllegalArgumentException("root " + dir + " is not readable: " + e.getMessage(), e);
            }
        }
    }
}
