package dev.keel.io;

import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import jdk.jfr.EventType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Emits the loop's JFR events. Each method first asks the event type whether a recording
 * enables it, a read of one flag: with no recording (the normal case) nothing is created, so
 * the loop's no-allocation promise holds; while recording, the event and its strings are
 * allocated as JFR events are.
 */
final class LoopEvents {
    private static final EventType OPENED = EventType.getEventType(ConnectionOpenedEvent.class);
    private static final EventType CLOSED = EventType.getEventType(ConnectionClosedEvent.class);
    private static final EventType STALL = EventType.getEventType(LoopStallEvent.class);

    private LoopEvents() {
    }

    static void opened(int loop, Connection c) {
        if (OPENED.isEnabled()) {
            ConnectionOpenedEvent e = new ConnectionOpenedEvent();
            e.loop = loop;
            e.fd = c.descriptor();
            e.handle = c.handle();
            e.peer = peer(c.descriptor());
            e.commit();
        }
    }

    static void closed(int loop, Connection c, CloseReason reason) {
        if (CLOSED.isEnabled()) {
            ConnectionClosedEvent e = new ConnectionClosedEvent();
            e.loop = loop;
            e.fd = c.descriptor();
            e.handle = c.handle();
            e.reason = reason.name();
            e.commit();
        }
    }

    /** Whether a recording takes LoopStall events now. */
    static boolean stallEnabled() {
        return STALL.isEnabled();
    }

    static void stall(int loop, long busyNanos, long pass, long syscalls) {
        if (STALL.isEnabled()) {
            LoopStallEvent e = new LoopStallEvent();
            e.loop = loop;
            e.busy = busyNanos;
            e.pass = pass;
            e.syscalls = syscalls;
            e.commit();
        }
    }

    /** The peer's "address:port" via getpeername(2), or "" (a direct descriptor, a reset socket). */
    private static String peer(int fd) {
        if (fd < 0) {
            return "";
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            Sockets.peerAddress(fd, address);
            var peer = SocketAddresses.read(address);
            return peer.getAddress().getHostAddress() + ":" + peer.getPort();
        } catch (SyscallException | IllegalArgumentException e) {
            return "";
        }
    }
}
