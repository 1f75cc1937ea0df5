package dev.keel.io.epoll;

import dev.keel.io.loop.SocketErrors;
import dev.keel.io.loop.PollerHost;
import dev.keel.io.Connection;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.io.loop.ConnectionTable;
import dev.keel.io.loop.DatagramDriver;
import dev.keel.io.loop.DatagramSink;
import dev.keel.io.loop.FileRegions;
import dev.keel.io.loop.OutboundQueue;
import dev.keel.io.loop.Poller;
import dev.keel.ffm.Epoll;
import dev.keel.ffm.EventFd;
import dev.keel.ffm.Files;
import dev.keel.ffm.SendFile;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;

import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.EPOLLERR;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLHUP;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLIN;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLOUT;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLRDHUP;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_ADD;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_DEL;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_MOD;
import static dev.keel.ffm.gen.LinuxConstants.MSG_MORE;
import static dev.keel.ffm.gen.LinuxConstants.MSG_NOSIGNAL;
import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_ERROR;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;
import static dev.keel.io.loop.ConnectionTable.FLAG_CONNECTING;
import static dev.keel.io.loop.ConnectionTable.READ_BLOCKED;
import static dev.keel.io.loop.ConnectionTable.FLAG_WANT_WRITE;
import static dev.keel.io.loop.ConnectionTable.POLLER_STATE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The epoll transport: a level-triggered epoll set over the listener, the wake-up eventfd and
 * every connection; readiness leads to accept4(2), read(2) into the loop's read buffer,
 * write(2) of fresh output at once and writev(2) of what is queued, and file regions with
 * sendfile(2) in chunks of {@link #FILE_CHUNK} (the bytes queued before a region go with
 * MSG_MORE, so a response head shares its segment with the file's first bytes). The poller state of a
 * connection's record is its epoll interest mask, or {@link #PARKED}.
 *
 * <p>Hang-ups: epoll reports EPOLLHUP and EPOLLERR whatever the interest mask, so a socket
 * that hangs up while its reading is blocked would be reported on every epoll_wait, a loop
 * spinning at full CPU. So an error closes the connection at once (its reason from
 * SO_ERROR), and a hang-up without error while reading is blocked (the application paused it,
 * both sides having shut their output) takes the socket out of the set — parked — until the
 * connection wants to read or write again: its bytes and end of stream are still delivered.
 */
public final class EpollPoller extends Poller {
    private static final long WAKEUP_TOKEN = -1L;
    private static final long LISTENER_TOKEN = -2L;
    /**
     * One read per readiness event: the set is level-triggered, so bytes left in the socket are
     * reported again by the next epoll_wait, while a second read here mostly returns EAGAIN
     * (with 4, half the reads of the 16 KiB echo benchmark were such misses).
     */
    private static final int READS_PER_EVENT = 1;
    private static final int ACCEPTS_PER_EVENT = 64;
    /** Poller state of a connection taken out of the epoll set after a hang-up (no mask is all ones). */
    private static final int PARKED = -1;
    /** Most bytes of a file region one sendfile(2) moves, so that one large file cannot monopolise the loop. */
    static final long FILE_CHUNK = 2L * 1024 * 1024;
    /** sendfile calls per connection per writable event before the loop's other connections get their turn. */
    private static final int FILE_CHUNKS_PER_EVENT = 2;

    private ConnectionTable table;
    private OutboundQueue outbound;
    private FileRegions files;
    /** sendfile's off_t: set from the region before each call, read back after. */
    private MemorySegment fileOffset;
    private LoopOptions options;
    private MemorySegment events;
    private MemorySegment wakeScratch;
    private int epfd = -1;
    private int listenFd = -1;
    private int wakeFd = -1;
    private boolean listening;
    private EpollDatagrams datagrams;

    public EpollPoller(PollerHost loop) {
        super(loop);
    }

    @Override
    public Transport transport() {
        return Transport.EPOLL;
    }

    @Override
    public void setUp(int listenFd, int wakeFd) {
        table = loop.table();
        outbound = loop.outbound();
        files = outbound.files();
        options = loop.options();
        fileOffset = loop.arena().allocate(JAVA_LONG);
        this.listenFd = listenFd;
        this.wakeFd = wakeFd;
        events = loop.arena().allocate(Epoll.eventArraySize(options.maxEventsPerPoll()), 8);
        wakeScratch = loop.arena().allocate(Long.BYTES, Long.BYTES);
        epfd = Epoll.create(EPOLL_CLOEXEC);
        Epoll.ctl(epfd, EPOLL_CTL_ADD, wakeFd, EPOLLIN, WAKEUP_TOKEN);
    }

    @Override
    public int poll(int timeoutMillis) {
        int n = -1;
        if (timeoutMillis != 0 && options.busyPollNanos() > 0) {
            long spinUntil = loop.now() + options.busyPollNanos();
            do {
                n = Epoll.wait(epfd, events, options.maxEventsPerPoll(), 0);
                loop.countSyscalls(1);
                if (n != 0 || loop.hasTasks()) {
                    break;
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - spinUntil < 0);
        }
        if (n <= 0) {
            boolean blocking = timeoutMillis != 0;
            if (blocking && !loop.prepareToBlock()) {
                timeoutMillis = 0;
            }
            n = Epoll.wait(epfd, events, options.maxEventsPerPoll(), timeoutMillis);
            loop.countSyscalls(1);
            if (blocking) {
                loop.awake();
            }
        }
        for (int i = 0; i < n; i++) {
            dispatch(Epoll.events(events, i), Epoll.data(events, i));
        }
        if (datagrams != null) {
            // What this pass's handlers queued leaves now, a batch per endpoint, before the next wait.
            datagrams.flush();
        }
        return Math.max(n, 0);
    }

    private void dispatch(int ready, long token) {
        if (token == WAKEUP_TOKEN) {
            EventFd.read(wakeFd, wakeScratch);
            loop.countSyscalls(1);
            return;
        }
        if (token == LISTENER_TOKEN) {
            acceptReady();
            return;
        }
        if (EpollDatagrams.isToken(token)) {
            datagrams.ready((int) (EpollDatagrams.TOKEN_BASE - token), ready);
            return;
        }
        if (!table.isLive(token)) {
            return; // closed earlier in this batch
        }
        int slot = ConnectionTable.slotOfHandle(token);
        if (table.hasFlag(slot, FLAG_CONNECTING)) {
            connectReady(slot);
            return;
        }
        if ((ready & EPOLLOUT) != 0) {
            flush(slot);
        }
        if ((ready & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && table.isLive(token)) {
            if (!table.hasFlag(slot, READ_BLOCKED)) {
                readReady(slot);
            } else if ((ready & (EPOLLHUP | EPOLLERR)) != 0) {
                hungUp(slot, ready);
            }
        }
    }

    /**
     * The socket hung up or failed while its reading is blocked, so no read will learn of it
     * and epoll reports it on every wait: an error closes the connection, a plain hang-up
     * parks the socket until the connection wants input or output again.
     */
    private void hungUp(int slot, int ready) {
        Connection c = loop.connection(slot);
        if ((ready & EPOLLERR) != 0) {
            loop.countSyscalls(1);
            int error = Sockets.getInt(loop.descriptor(c), SOL_SOCKET, SO_ERROR);
            if (error != 0) {
                loop.closeNow(slot, SocketErrors.reason(error));
                return;
            }
        }
        Epoll.ctl(epfd, EPOLL_CTL_DEL, loop.descriptor(c), 0, 0);
        loop.countSyscalls(1);
        table.setInt(slot, POLLER_STATE, PARKED);
    }

    // ---------------------------------------------------------------- accept

    private void acceptReady() {
        for (int i = 0; i < ACCEPTS_PER_EVENT && listening; i++) {
            int fd;
            loop.countSyscalls(1);
            try {
                fd = Sockets.accept(listenFd, SOCK_NONBLOCK | SOCK_CLOEXEC);
            } catch (SyscallException e) {
                // EMFILE and the like leave the listener readable: a level-triggered loop would
                // spin on it, so the loop's accept policy pauses accepting (per-connection errors go on).
                if (loop.acceptFailed(e.errno())) {
                    continue;
                }
                return;
            }
            if (fd == -Errno.ECONNABORTED) {
                loop.acceptFailed(Errno.ECONNABORTED);
                continue;
            }
            if (fd < 0) {
                return;
            }
            loop.accepted(fd);
        }
    }

    @Override
    public void startAccepting() {
        if (!listening && listenFd >= 0) {
            Epoll.ctl(epfd, EPOLL_CTL_ADD, listenFd, EPOLLIN, LISTENER_TOKEN);
            loop.countSyscalls(1);
            listening = true;
        }
    }

    @Override
    public void stopAccepting() {
        if (listening) {
            Epoll.ctl(epfd, EPOLL_CTL_DEL, listenFd, 0, 0);
            loop.countSyscalls(1);
            listening = false;
        }
    }

    @Override
    public void discardAccepted(int fd) {
        loop.countSyscalls(1);
        Files.close(fd);
    }

    @Override
    public void register(int slot, Connection c) {
        loop.configure(loop.descriptor(c));
        table.setInt(slot, POLLER_STATE, EPOLLIN | EPOLLRDHUP);
        loop.countSyscalls(1);
        Epoll.ctl(epfd, EPOLL_CTL_ADD, loop.descriptor(c), EPOLLIN | EPOLLRDHUP, c.handle());
    }

    // ---------------------------------------------------------------- connect

    /**
     * connect(2) on the non-blocking socket: done at once (0) or under way (EINPROGRESS, and
     * EINTR, after which the kernel goes on too); either way its outcome is reported as
     * writability (EPOLLOUT, with EPOLLERR when it failed), read from SO_ERROR. A refusal the
     * kernel knows at once (loopback: ECONNREFUSED) fails it now.
     */
    @Override
    public void connect(int slot, Connection c, MemorySegment sockaddr, int length) {
        int fd = loop.descriptor(c);
        loop.countSyscalls(1);
        try {
            Sockets.connect(fd, sockaddr, length);
        } catch (SyscallException e) {
            loop.connectFailed(slot, "connect", e.errno());
            return;
        }
        table.setInt(slot, POLLER_STATE, EPOLLOUT);
        loop.countSyscalls(1);
        Epoll.ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLOUT, c.handle());
    }

    /** The connecting socket of {@code slot} became writable or failed: SO_ERROR says which. */
    private void connectReady(int slot) {
        int fd = loop.descriptor(loop.connection(slot));
        int error;
        loop.countSyscalls(1);
        try {
            error = Sockets.getInt(fd, SOL_SOCKET, SO_ERROR);
        } catch (SyscallException e) {
            error = e.errno();
        }
        if (error != 0) {
            loop.connectFailed(slot, "connect", error);
            return;
        }
        table.setInt(slot, POLLER_STATE, EPOLLIN | EPOLLRDHUP);
        loop.countSyscalls(1);
        Epoll.ctl(epfd, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLRDHUP, table.handleOf(slot));
        loop.connected(slot);
    }

    // ---------------------------------------------------------------- read

    private void readReady(int slot) {
        Connection c = loop.connection(slot);
        int fd = loop.descriptor(c);
        MemorySegment readBuffer = loop.readBuffer();
        for (int i = 0; i < READS_PER_EVENT; i++) {
            if (table.hasFlag(slot, READ_BLOCKED)) {
                return;
            }
            long n;
            loop.countSyscalls(1);
            try {
                n = Uio.read(fd, readBuffer, readBuffer.byteSize());
            } catch (SyscallException e) {
                SocketErrors.closeFor(loop, slot, e);
                return;
            }
            if (n > 0) {
                if (!loop.received(slot, c, loop.readSlice((int) n)) || n < readBuffer.byteSize()) {
                    return;
                }
            } else if (n == 0) {
                loop.inputClosed(slot, c);
                return;
            } else {
                return; // EAGAIN or EINTR
            }
        }
    }

    // ---------------------------------------------------------------- write

    /** write(2) of native bytes; the count taken (0 on EAGAIN), or -1 when the connection died. */
    @Override
    public long writeNow(int slot, Connection c, MemorySegment data, long length) {
        loop.countSyscalls(1);
        try {
            return taken(slot, Uio.write(loop.descriptor(c), data, length));
        } catch (SyscallException e) {
            SocketErrors.closeFor(loop, slot, e);
            return -1;
        }
    }

    /**
     * One writev of the queue (up to a file region's fence: those bytes with sendmsg and
     * MSG_MORE); the count taken (0 on EAGAIN), or -1 when the connection died.
     */
    @Override
    public long flushNow(int slot, Connection c) {
        // One writev(2), none for an empty queue; counted without a branch (see LoopStats.passEnded).
        loop.countSyscalls(-outbound.sendable(slot) >>> 63);
        try {
            int flags = files.active(slot) ? MSG_MORE | MSG_NOSIGNAL : 0;
            return taken(slot, outbound.flush(slot, loop.descriptor(c), flags));
        } catch (SyscallException e) {
            SocketErrors.closeFor(loop, slot, e);
            return -1;
        }
    }

    @Override
    public void fileQueued(int slot, Connection c) {
        flush(slot);
    }

    /**
     * Moves the connection's output as far as the socket takes it: the queued bytes before its
     * file region, the region in sendfile chunks (at most {@link #FILE_CHUNKS_PER_EVENT}, then
     * EPOLLOUT brings it back), the bytes behind it. False when the connection died.
     */
    private boolean drive(int slot, Connection c) {
        int chunks = FILE_CHUNKS_PER_EVENT;
        while (files.active(slot)) {
            if (files.fence(slot) > 0) {
                if (flushNow(slot, c) < 0) {
                    return false;
                }
                if (files.fence(slot) > 0) {
                    return true; // the socket is full
                }
            }
            if (chunks-- == 0) {
                return true;
            }
            long n = sendFileChunk(slot, c);
            if (n < 0) {
                return false;
            }
            if (n == 0) {
                return true; // the socket is full
            }
        }
        return flushNow(slot, c) >= 0;
    }

    /**
     * One sendfile(2) of the connection's region: the bytes taken (0 when the socket is full),
     * or -1 when the connection died or the region ended (failed, or done and the handler
     * closed the connection).
     */
    private long sendFileChunk(int slot, Connection c) {
        long want = Math.min(files.remaining(slot), FILE_CHUNK);
        fileOffset.set(JAVA_LONG, 0, files.position(slot));
        long n;
        loop.countSyscalls(1);
        try {
            n = SendFile.sendfile(loop.descriptor(c), files.fd(slot), fileOffset, want);
        } catch (SyscallException e) {
            if (FileRegions.isFileError(e.errno())) {
                loop.fileSent(slot, c, e.errno());
            } else {
                SocketErrors.closeFor(loop, slot, e);
            }
            return -1;
        }
        if (n == 0) {
            loop.fileSent(slot, c, FileRegions.TRUNCATED);
            return -1;
        }
        if (n < 0) {
            return 0; // EAGAIN, or EINTR: EPOLLOUT brings the connection back
        }
        files.advance(slot, n);
        loop.sentFile(slot, n);
        if (files.remaining(slot) == 0) {
            loop.fileSent(slot, c, 0);
            if (!table.isLive(c.handle())) {
                return -1;
            }
        }
        return n;
    }

    /** Counts {@code n} bytes the socket took (none when it returned -EAGAIN or -EINTR). */
    private long taken(int slot, long n) {
        if (n <= 0) {
            return 0;
        }
        loop.sent(slot, n);
        return n;
    }

    private void flush(int slot) {
        Connection c = loop.connection(slot);
        if (drive(slot, c) && table.isLive(c.handle())) {
            loop.outputProgress(slot, c);
        }
    }

    @Override
    public void update(int slot) {
        int wanted = 0;
        if (!table.hasFlag(slot, READ_BLOCKED)) {
            wanted |= EPOLLIN | EPOLLRDHUP;
        }
        if (table.hasFlag(slot, FLAG_WANT_WRITE)) {
            wanted |= EPOLLOUT;
        }
        int state = table.getInt(slot, POLLER_STATE);
        if (state == PARKED) {
            if (wanted != 0) {
                // Back in the set: epoll reports the hang-up again, and the read or write now meets it.
                table.setInt(slot, POLLER_STATE, wanted);
                Epoll.ctl(epfd, EPOLL_CTL_ADD, loop.descriptor(loop.connection(slot)), wanted, table.handleOf(slot));
                loop.countSyscalls(1);
            }
        } else if (wanted != state) {
            table.setInt(slot, POLLER_STATE, wanted);
            Epoll.ctl(epfd, EPOLL_CTL_MOD, loop.descriptor(loop.connection(slot)), wanted, table.handleOf(slot));
            loop.countSyscalls(1);
        }
    }

    @Override
    public void shutdownOutput(int slot, Connection c) {
        loop.countSyscalls(1);
        try {
            Sockets.shutdown(loop.descriptor(c), SHUT_WR);
        } catch (SyscallException e) {
            SocketErrors.closeFor(loop, slot, e);
        }
    }

    @Override
    public boolean close(int slot, Connection c) {
        // close(2) also removes the fd from the epoll set.
        loop.countSyscalls(1);
        Files.close(loop.descriptor(c));
        return true;
    }

    @Override
    public DatagramDriver datagrams(DatagramSink sink) {
        if (datagrams == null) {
            datagrams = new EpollDatagrams(sink, loop, epfd);
        }
        return datagrams;
    }

    @Override
    public void tearDown() {
        if (datagrams != null) {
            datagrams.closeAll();
        }
        Files.closeQuietly(epfd);
        epfd = -1;
    }
}
