package dev.keel.io;

import dev.keel.io.loop.ConnectionTable;

import static dev.keel.io.loop.ConnectionTable.IDLE_TIMER;
import static dev.keel.io.loop.ConnectionTable.LAST_ACTIVE;

/**
 * A connection's timeouts, all on one timer per connection slot on the loop's wheel: the
 * loop's idle timeout (no byte in or out, {@link LoopOptions.Builder#idleTimeout}) and the
 * connection's own read timeout (no byte in, {@link Connection#readTimeout}) and write timeout
 * (queued output made no progress, {@link Connection#writeTimeout}). The timer is lazy: a read
 * or a write only stores the tick it happened in (one array store, nothing scheduled), and when
 * the timer fires it closes the connection if a timeout ran out, or schedules itself for the
 * nearest one that can. So the loop's share of timers stays one per slot whatever is set, and
 * nothing is allocated once a connection runs. Loop-confined.
 */
final class ConnectionTimeouts {
    private final LoopCore core;
    private final ConnectionTable table;
    private final long idleTicks;
    private final long[] readTicks;
    private final long[] writeTicks;
    private final long[] lastRead;
    private final long[] lastWriteProgress;

    ConnectionTimeouts(LoopCore core, int slots) {
        this.core = core;
        this.table = core.table;
        this.idleTicks = ticks(core.options.idleTimeoutNanos);
        this.readTicks = new long[slots];
        this.writeTicks = new long[slots];
        this.lastRead = new long[slots];
        this.lastWriteProgress = new long[slots];
    }

    private long ticks(long nanos) {
        long tick = core.options.tickNanos;
        return nanos <= 0 ? 0 : (nanos + tick - 1) / tick;
    }

    /** The connection in {@code slot} opened: its clocks start now, with the loop's idle timeout only. */
    void opened(int slot) {
        long tick = core.tick;
        table.setLong(slot, LAST_ACTIVE, tick);
        lastRead[slot] = tick;
        lastWriteProgress[slot] = tick;
        readTicks[slot] = 0;
        writeTicks[slot] = 0;
        table.setInt(slot, IDLE_TIMER, -1);
        arm(slot, idleTicks);
    }

    /** Bytes arrived. */
    void read(int slot) {
        lastRead[slot] = core.tick;
    }

    /** Output moved, or was queued into an empty queue (its wait for progress starts now). */
    void wrote(int slot) {
        lastWriteProgress[slot] = core.tick;
    }

    void setReadTimeout(int slot, long nanos) {
        readTicks[slot] = ticks(nanos);
        lastRead[slot] = core.tick;
        rearm(slot);
    }

    void setWriteTimeout(int slot, long nanos) {
        writeTicks[slot] = ticks(nanos);
        lastWriteProgress[slot] = core.tick;
        rearm(slot);
    }

    /** The timer of {@code slot}'s connection of {@code generation} fired: close it, or check again later. */
    void check(int slot, int generation) {
        if (!table.isLive(ConnectionTable.handle(slot, generation))) {
            return;
        }
        table.setInt(slot, IDLE_TIMER, -1);
        long tick = core.tick;
        if (core.outbound.pending(slot) == 0) {
            lastWriteProgress[slot] = tick; // nothing waits to go out: no write is stalled
        }
        long idleLeft = left(idleTicks, tick - table.getLong(slot, LAST_ACTIVE));
        long readLeft = left(readTicks[slot], tick - lastRead[slot]);
        long writeLeft = left(writeTicks[slot], tick - lastWriteProgress[slot]);
        if (idleLeft == 0) {
            core.stats.idleTimeouts++;
            core.lifecycle.closeNow(slot, CloseReason.IDLE_TIMEOUT);
        } else if (readLeft == 0) {
            core.lifecycle.closeNow(slot, CloseReason.READ_TIMEOUT);
        } else if (writeLeft == 0) {
            core.lifecycle.closeNow(slot, CloseReason.WRITE_TIMEOUT);
        } else {
            arm(slot, Math.min(idleLeft, Math.min(readLeft, writeLeft)));
        }
    }

    /** Ticks left of a timeout of {@code limit} ticks after {@code quiet} quiet ones: 0 when run out, MAX when off. */
    private static long left(long limit, long quiet) {
        return limit == 0 ? Long.MAX_VALUE : Math.max(0, limit - quiet);
    }

    /** A timeout changed: the timer is moved to the nearest deadline now. */
    private void rearm(int slot) {
        int timer = table.getInt(slot, IDLE_TIMER);
        if (timer >= 0) {
            core.timers.cancelInternal(timer);
            table.setInt(slot, IDLE_TIMER, -1);
        }
        long tick = core.tick;
        long next = Math.min(left(idleTicks, tick - table.getLong(slot, LAST_ACTIVE)),
                Math.min(left(readTicks[slot], tick - lastRead[slot]), left(writeTicks[slot], tick - lastWriteProgress[slot])));
        arm(slot, Math.max(1, next));
    }

    private void arm(int slot, long ticks) {
        if (ticks == 0 || ticks == Long.MAX_VALUE) {
            return;
        }
        table.setInt(slot, IDLE_TIMER, core.timers.scheduleInternal(core.now, ticks * core.options.tickNanos,
                LoopTimers.KIND_IDLE, slot, ConnectionTable.generationOfHandle(table.handleOf(slot))));
    }
}
