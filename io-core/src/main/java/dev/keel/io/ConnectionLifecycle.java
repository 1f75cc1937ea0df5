package dev.keel.io;

import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.LinuxLayouts.Linger;
import dev.keel.io.loop.ConnectionTable;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.SOL_SOCKET;
import static dev.keel.ffm.gen.LinuxConstants.SO_LINGER;
import static dev.keel.io.loop.ConnectionTable.CLOSE_REASON;
import static dev.keel.io.loop.ConnectionTable.FLAG_CLOSING;
import static dev.keel.io.loop.ConnectionTable.FLAG_CONNECTING;
import static dev.keel.io.loop.ConnectionTable.FLAG_INPUT_CLOSED;
import static dev.keel.io.loop.ConnectionTable.FLAG_OPEN;
import static dev.keel.io.loop.ConnectionTable.FLAG_OUTPUT_SHUT;
import static dev.keel.io.loop.ConnectionTable.IDLE_TIMER;
import static dev.keel.io.loop.ConnectionTable.LAST_ACTIVE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A connection's life on its loop, from the accepted socket to the handler's
 * {@code onClose}: the slot in the table and the {@link Connection} naming it, the handler's
 * calls for arrived bytes and end of input (with the half-close rule: input ended and output
 * shut means nothing can move any more, so the connection closes), graceful and immediate
 * closes, idle timeouts, and the release of the slot once the kernel holds nothing of it — {@code onClose}
 * only for a connection whose handler heard {@code onOpen}; for an outbound connection also its
 * connect, its connect timeout and the {@code onConnectFailed} of one that never opened. Output and back-pressure are the
 * {@link WritePath}'s. Kept apart from the duty cycle ({@link LoopCore}) so that the rules of
 * a connection's life read in one place. Loop-confined.
 */
final class ConnectionLifecycle {
    private static final CloseReason[] REASONS = CloseReason.values();

    private final LoopCore core;
    private final ConnectionHandler handler;
    private final Connection[] connections;
    private final MemorySegment linger;

    ConnectionLifecycle(LoopCore core, ConnectionHandler handler, int capacity) {
        this.core = core;
        this.handler = handler;
        this.connections = new Connection[capacity];
        // struct linger { int l_onoff = 1; int l_linger = 0; }: close(2) resets the connection.
        this.linger = core.arena.allocate(Linger.SIZE, Linger.ALIGNMENT);
        linger.set(JAVA_INT, Linger.L_ONOFF, 1);
        linger.set(JAVA_INT, Linger.L_LINGER, 0);
    }

    /** The connection in {@code slot} (open, or retired and not yet released), or null. */
    Connection connection(int slot) {
        return connections[slot];
    }

    /** The transport accepted socket {@code fd} (a fixed file index with direct descriptors). */
    void accepted(int fd) {
        ConnectionTable table = core.table;
        int slot = table.allocate(fd);
        if (slot < 0) {
            core.stats.rejected++;
            core.poller.discardAccepted(fd);
            return;
        }
        long handle = table.handleOf(slot);
        Connection c = new Connection(core, slot, handle, core.poller.publicFd(fd), table.userArea(slot), handler);
        connections[slot] = c;
        core.stats.accepted++;
        LoopEvents.opened(core.index, c);
        try {
            core.poller.register(slot, c);
        } catch (SyscallException e) {
            closeNow(slot, CloseReason.ERROR);
            return;
        }
        open(slot, c);
    }

    /** The connection's idle check starts and its handler hears onOpen: from here on it hears of its close. */
    private void open(int slot, Connection c) {
        core.timeouts.opened(slot);
        c.opened = true;
        try {
            c.handler.onOpen(c);
        } catch (Throwable t) {
            handlerFailed(slot, t);
        }
    }

    // ---------------------------------------------------------------- outbound connections

    /**
     * Puts socket {@code fd} (kernel side), about to connect to {@code remote}, in a slot with its
     * connect timeout running; returns the slot, or -1 when the table is full.
     */
    int connecting(int fd, InetSocketAddress remote, ConnectionHandler h, long timeoutNanos) {
        ConnectionTable table = core.table;
        int slot = table.allocate(fd);
        if (slot < 0) {
            return -1;
        }
        long handle = table.handleOf(slot);
        Connection c = new Connection(core, slot, handle, core.poller.publicFd(fd), table.userArea(slot), h);
        c.remote = remote;
        c.timeoutNanos = timeoutNanos;
        connections[slot] = c;
        table.setFlag(slot, FLAG_CONNECTING);
        table.setInt(slot, CLOSE_REASON, CloseReason.ERROR.ordinal());
        // The slot's one loop timer is its connect timeout now, its idle check once it is open.
        table.setInt(slot, IDLE_TIMER, core.timers.scheduleInternal(core.now, timeoutNanos,
                LoopTimers.KIND_CONNECT_TIMEOUT, slot, ConnectionTable.generationOfHandle(handle)));
        return slot;
    }

    /** The connect of {@code slot} completed: the connection opens. */
    void connected(int slot) {
        ConnectionTable table = core.table;
        Connection c = connections[slot];
        if (c == null || !table.hasFlag(slot, FLAG_OPEN) || !table.hasFlag(slot, FLAG_CONNECTING)) {
            return;
        }
        table.clearFlag(slot, FLAG_CONNECTING);
        core.stats.connectsSucceeded++;
        core.timers.cancelInternal(table.getInt(slot, IDLE_TIMER));
        table.setInt(slot, IDLE_TIMER, -1);
        LoopEvents.opened(core.index, c);
        open(slot, c);
    }

    /** The transport's connect of {@code slot} failed: {@code call} with {@code errno}. */
    void connectFailed(int slot, String call, int errno) {
        Connection c = connections[slot];
        if (c != null) {
            connectFailed(slot, ConnectFailure.syscall(c.remote, call, errno));
        }
    }

    /** The connect of {@code slot} failed: its socket closes, and once released the handler hears why. */
    void connectFailed(int slot, ConnectFailure failure) {
        Connection c = connections[slot];
        if (c == null || !core.table.hasFlag(slot, FLAG_OPEN) || !core.table.hasFlag(slot, FLAG_CONNECTING)) {
            return;
        }
        c.failure = failure;
        closeNow(slot, CloseReason.ERROR);
    }

    /** The connect timer of {@code slot}'s connection of {@code generation} fired. */
    void connectTimedOut(int slot, int generation) {
        if (!core.table.isLive(ConnectionTable.handle(slot, generation))) {
            return;
        }
        core.table.setInt(slot, IDLE_TIMER, -1);
        Connection c = connections[slot];
        connectFailed(slot, ConnectFailure.timeout(c.remote, c.timeoutNanos));
    }

    /**
     * Hands arrived bytes to the handler. Returns whether the connection is still open after
     * the call, so the poller knows whether to go on reading it.
     */
    boolean received(int slot, Connection c, MemorySegment data) {
        core.stats.bytesIn += data.byteSize();
        core.table.setLong(slot, LAST_ACTIVE, core.tick);
        core.timeouts.read(slot);
        Cumulation cumulation = core.cumulation;
        MemorySegment delivered = cumulation.holds(slot) ? cumulation.assemble(slot, data) : data;
        cumulation.begin(slot, delivered);
        try {
            c.handler.onData(c, delivered);
        } catch (Throwable t) {
            cumulation.end(slot, false);
            handlerFailed(slot, t);
            return false;
        }
        boolean live = core.table.isLive(c.handle());
        if (!cumulation.end(slot, live)) {
            closeNow(slot, CloseReason.FRAME_TOO_LARGE);
            return false;
        }
        return live;
    }

    /** The peer shut down its sending side. */
    void inputClosed(int slot, Connection c) {
        ConnectionTable table = core.table;
        table.setFlag(slot, FLAG_INPUT_CLOSED);
        core.poller.update(slot);
        table.setInt(slot, CLOSE_REASON, CloseReason.PEER_CLOSED.ordinal());
        try {
            c.handler.onInputClosed(c);
        } catch (Throwable t) {
            handlerFailed(slot, t);
            return;
        }
        if (table.isLive(c.handle()) && table.hasFlag(slot, FLAG_OUTPUT_SHUT)) {
            closeGracefully(slot); // its output was shut before: nothing can move either way any more
        }
    }

    /** The application closes the connection: after pending output, as LOCAL unless the peer ended first. */
    void close(int slot) {
        if (!core.table.hasFlag(slot, FLAG_INPUT_CLOSED)) {
            core.table.setInt(slot, CLOSE_REASON, CloseReason.LOCAL.ordinal());
        }
        closeGracefully(slot);
    }

    /** Closes once the queued output is sent (at once when none is), with the slot's recorded reason. */
    void closeGracefully(int slot) {
        if (core.outbound.drained(slot)) {
            closeNow(slot, REASONS[core.table.getInt(slot, CLOSE_REASON)]);
        } else if (!core.table.hasFlag(slot, FLAG_CLOSING)) {
            core.table.setFlag(slot, FLAG_CLOSING);
            core.poller.update(slot);
        }
    }

    /**
     * {@link Connection#reset()}: SO_LINGER with a zero timeout, so that the close sends a reset
     * and drops what the kernel still holds to send, then an immediate close. A socket without
     * a descriptor (io_uring's direct descriptors) gets a plain close.
     */
    void reset(int slot, Connection c) {
        int fd = c.descriptor();
        if (fd >= 0) {
            core.stats.syscalls++;
            try {
                Sockets.set(fd, SOL_SOCKET, SO_LINGER, linger);
            } catch (SyscallException ignored) {
                // a socket the kernel already reset or failed: it is closed below all the same
            }
        }
        closeNow(slot, CloseReason.ABORTED);
    }

    /** Closes a connection whose output went out: with the reason its slot recorded. */
    void closeRecorded(int slot) {
        closeNow(slot, REASONS[core.table.getInt(slot, CLOSE_REASON)]);
    }

    /**
     * Closes the connection in {@code slot} now: its handle goes stale at once, the poller
     * stops the kernel's work on it, and once the kernel holds nothing of it the slot and its
     * buffers are freed and the handler hears {@code onClose} ({@link #released}).
     */
    void closeNow(int slot, CloseReason reason) {
        ConnectionTable table = core.table;
        Connection c = connections[slot];
        if (c == null || !table.hasFlag(slot, FLAG_OPEN)) {
            return;
        }
        int timer = table.getInt(slot, IDLE_TIMER);
        if (timer >= 0) {
            core.timers.cancelInternal(timer);
        }
        table.setInt(slot, CLOSE_REASON, reason.ordinal());
        core.writes.closed(slot);
        table.retire(slot);
        if (core.poller.close(slot, c)) {
            released(slot);
        }
    }

    /** The kernel holds nothing of retired {@code slot} any more: free it and tell the handler. */
    void released(int slot) {
        Connection c = connections[slot];
        connections[slot] = null;
        core.outbound.discard(slot);
        core.cumulation.release(slot);
        CloseReason reason = REASONS[core.table.getInt(slot, CLOSE_REASON)];
        core.table.release(slot);
        core.stats.closed++;
        LoopEvents.closed(core.index, c, reason);
        if (!c.opened) {
            // Closed before onOpen: an accepted socket whose registration failed, which the
            // handler never saw, or an outbound one whose connect failed, which it hears of now.
            if (c.remote != null) {
                connectFailedNow(c, reason);
            }
            return;
        }
        try {
            c.handler.onClose(c, reason);
        } catch (Throwable t) {
            core.reportUnexpected(t);
        }
    }

    private void connectFailedNow(Connection c, CloseReason reason) {
        core.stats.connectsFailed++;
        ConnectFailure failure = c.failure != null ? c.failure
                : ConnectFailure.other(c.remote, "closed before it connected: " + reason);
        try {
            c.handler.onConnectFailed(failure);
        } catch (Throwable t) {
            core.reportUnexpected(t);
        }
    }

    /** Shutdown begins: every open connection closes once its output is sent, as {@code reason}. */
    void closeAllGracefully(CloseReason reason) {
        for (int slot = 0; slot < connections.length; slot++) {
            if (connections[slot] != null && core.table.hasFlag(slot, FLAG_OPEN)) {
                core.table.setInt(slot, CLOSE_REASON, reason.ordinal());
                closeGracefully(slot);
            }
        }
    }

    /** Shutdown's end: every connection left closes now. */
    void closeAll(CloseReason reason) {
        for (int slot = 0; slot < connections.length; slot++) {
            if (connections[slot] != null) {
                closeNow(slot, reason);
            }
        }
    }

    /** A handler call threw: counted, reported, and the connection closed as HANDLER_ERROR. */
    void handlerFailed(int slot, Throwable t) {
        core.stats.handlerFailures++;
        core.reportUnexpected(t);
        closeNow(slot, CloseReason.HANDLER_ERROR);
    }
}
