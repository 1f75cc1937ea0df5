package dev.keel.io.loop;

import dev.keel.io.RegionAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Per-connection state of one loop, off-heap: fixed-size records indexed by slot. A connection
 * is found by the slot its events carry (epoll's event data, io_uring's user_data), never by
 * its fd, so there is no fd index. A slot's generation grows each time
 * the slot is freed, so a handle ({@code generation << 32 | slot}) of a closed connection can
 * never reach the connection that reuses the slot.
 *
 * <pre>
 *  record (64 bytes, one cache line)
 *   0 fd            int      4 generation     int
 *   8 flags         int     12 idle timer id  int
 *  16 out head buf  int     20 out head pos   int
 *  24 out tail buf  int     28 out tail pos   int
 *  32 pending bytes long    40 last active    long (loop tick)
 *  48 next free     int     52 poller state   int (epoll interest mask, io_uring op bits)
 *  56 close reason  int     60 ops in flight  int (io_uring requests naming this slot)
 * </pre>
 * A closed connection is first <em>retired</em> (its handle goes stale at once) and then
 * <em>released</em> to the free list once the kernel holds nothing of it any more: epoll does
 * both at once, io_uring waits for the completions of the requests still in flight, which
 * name the slot in their user_data and may still use its queued buffers.
 * Loop-confined: no field here is touched by another thread.
 */
public final class ConnectionTable {
    public static final int RECORD_SIZE = 64;
    public static final int FD = 0;
    public static final int GENERATION = 4;
    public static final int FLAGS = 8;
    public static final int IDLE_TIMER = 12;
    public static final int OUT_HEAD_BUF = 16;
    public static final int OUT_HEAD_POS = 20;
    public static final int OUT_TAIL_BUF = 24;
    public static final int OUT_TAIL_POS = 28;
    public static final int PENDING = 32;
    public static final int LAST_ACTIVE = 40;
    public static final int NEXT_FREE = 48;
    public static final int POLLER_STATE = 52;
    public static final int CLOSE_REASON = 56;
    public static final int IN_FLIGHT = 60;

    public static final int FLAG_OPEN = 1;
    public static final int FLAG_READ_PAUSED = 1 << 1;
    public static final int FLAG_WANT_WRITE = 1 << 2;
    public static final int FLAG_CLOSING = 1 << 3;
    public static final int FLAG_INPUT_CLOSED = 1 << 4;
    public static final int FLAG_OUTPUT_SHUTDOWN_PENDING = 1 << 5;
    public static final int FLAG_DIRTY = 1 << 6;
    public static final int FLAG_NOTIFY_WRITABLE = 1 << 7;
    /** Reading paused by the application ({@link dev.keel.io.Connection#pauseReading}), apart from the water marks. */
    public static final int FLAG_APP_READ_PAUSED = 1 << 8;
    /** The application shut the output down ({@link dev.keel.io.Connection#shutdownOutput}), done or pending. */
    public static final int FLAG_OUTPUT_SHUT = 1 << 9;
    /** An outbound connection whose connect(2) has not completed: no reading, no writing, no handler calls yet. */
    public static final int FLAG_CONNECTING = 1 << 10;
    /**
     * Reading paused because a connection this one feeds ({@link dev.keel.io.Connection#feedFrom})
     * has its output past the high water mark; cleared when the last such connection drained.
     */
    public static final int FLAG_FEED_PAUSED = 1 << 11;
    /** This connection's output, past the high water mark, paused the reading of its feeder. */
    public static final int FLAG_PAUSING_FEEDER = 1 << 12;
    /** Any of these pauses reading for a while; bytes that arrive meanwhile wait (in the kernel or held). */
    public static final int READ_PAUSES = FLAG_READ_PAUSED | FLAG_APP_READ_PAUSED | FLAG_FEED_PAUSED;
    /** Any of these stops reading: water marks, the application, end of input, a graceful close. */
    public static final int READ_BLOCKED = READ_PAUSES | FLAG_INPUT_CLOSED | FLAG_CLOSING | FLAG_CONNECTING;

    private final MemorySegment records;
    private final MemorySegment userArea;
    private final int userAreaSize;
    private final int capacity;
    private int freeHead;
    private int used;

    public ConnectionTable(Arena arena, RegionAllocator memory, int capacity, int userAreaSize) {
        this.capacity = capacity;
        this.userAreaSize = userAreaSize;
        // Page-aligned, so records never straddle cache lines.
        this.records = memory.allocate(arena, (long) capacity * RECORD_SIZE);
        this.userArea = userAreaSize == 0 ? MemorySegment.NULL
                : memory.allocate(arena, (long) capacity * userAreaSize);
        for (int slot = 0; slot < capacity; slot++) {
            setInt(slot, NEXT_FREE, slot + 1 < capacity ? slot + 1 : -1);
            setInt(slot, FD, -1);
        }
        freeHead = 0;
    }

    /** Takes a free slot for {@code fd}; -1 when the table is full. */
    public int allocate(int fd) {
        int slot = freeHead;
        if (slot < 0) {
            return -1;
        }
        freeHead = getInt(slot, NEXT_FREE);
        int generation = getInt(slot, GENERATION);
        records.asSlice((long) slot * RECORD_SIZE, RECORD_SIZE).fill((byte) 0);
        setInt(slot, GENERATION, generation);
        setInt(slot, FD, fd);
        setInt(slot, FLAGS, FLAG_OPEN);
        setInt(slot, IDLE_TIMER, -1);
        setInt(slot, OUT_HEAD_BUF, -1);
        setInt(slot, OUT_TAIL_BUF, -1);
        used++;
        return slot;
    }

    /** Retires and releases {@code slot} at once: for a slot the kernel holds nothing of. */
    public void free(int slot) {
        retire(slot);
        release(slot);
    }

    /**
     * Ends the connection in {@code slot}: its handle goes stale (the generation advances) and
     * the record stays reserved until {@link #release}.
     */
    public void retire(int slot) {
        setInt(slot, FLAGS, 0);
        setInt(slot, GENERATION, getInt(slot, GENERATION) + 1);
    }

    /** Returns a retired {@code slot} to the free list. */
    public void release(int slot) {
        setInt(slot, FD, -1);
        setInt(slot, NEXT_FREE, freeHead);
        freeHead = slot;
        used--;
    }

    public static long handle(int slot, int generation) {
        return ((long) generation << 32) | (slot & 0xFFFF_FFFFL);
    }

    public static int slotOfHandle(long handle) {
        return (int) handle;
    }

    public static int generationOfHandle(long handle) {
        return (int) (handle >>> 32);
    }

    /** True when {@code handle} names the connection now in its slot. */
    public boolean isLive(long handle) {
        int slot = slotOfHandle(handle);
        return slot >= 0 && slot < capacity
                && getInt(slot, GENERATION) == generationOfHandle(handle)
                && (getInt(slot, FLAGS) & FLAG_OPEN) != 0;
    }

    public long handleOf(int slot) {
        return handle(slot, getInt(slot, GENERATION));
    }

    public int getInt(int slot, int field) {
        return records.get(JAVA_INT, (long) slot * RECORD_SIZE + field);
    }

    public void setInt(int slot, int field, int value) {
        records.set(JAVA_INT, (long) slot * RECORD_SIZE + field, value);
    }

    public long getLong(int slot, int field) {
        return records.get(JAVA_LONG, (long) slot * RECORD_SIZE + field);
    }

    public void setLong(int slot, int field, long value) {
        records.set(JAVA_LONG, (long) slot * RECORD_SIZE + field, value);
    }

    public boolean hasFlag(int slot, int flag) {
        return (getInt(slot, FLAGS) & flag) != 0;
    }

    public void setFlag(int slot, int flag) {
        setInt(slot, FLAGS, getInt(slot, FLAGS) | flag);
    }

    public void clearFlag(int slot, int flag) {
        setInt(slot, FLAGS, getInt(slot, FLAGS) & ~flag);
    }

    /** The application's off-heap bytes of {@code slot}; made once per connection, not per call. */
    public MemorySegment userArea(int slot) {
        return userAreaSize == 0 ? MemorySegment.NULL
                : userArea.asSlice((long) slot * userAreaSize, userAreaSize);
    }

    public MemorySegment records() {
        return records;
    }

    /** Every slot's user area, one region; {@link MemorySegment#NULL} when the areas are 0 bytes. */
    public MemorySegment userAreas() {
        return userArea;
    }

    public int capacity() {
        return capacity;
    }

    /** Slots in use, retired ones included until they are released. */
    public int used() {
        return used;
    }

    /** Off-heap bytes this table holds. */
    public long offHeapBytes() {
        return records.byteSize() + (userAreaSize == 0 ? 0 : userArea.byteSize());
    }
}
