package dev.keel.io.loop;

import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.LinuxLayouts.Msghdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.io.loop.ConnectionTable.OUT_HEAD_BUF;
import static dev.keel.io.loop.ConnectionTable.OUT_HEAD_POS;
import static dev.keel.io.loop.ConnectionTable.OUT_TAIL_BUF;
import static dev.keel.io.loop.ConnectionTable.OUT_TAIL_POS;
import static dev.keel.io.loop.ConnectionTable.PENDING;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The bytes each connection's socket has not taken yet: a chain of pool buffers per
 * connection (head, read position, tail, write position and the total kept in the
 * connection's record), drained with one writev(2) over the whole chain (epoll) or handed to
 * the kernel as a send of the oldest buffer or a gathered sendmsg (io_uring).
 *
 * <p>A connection may also have a file region queued ({@link FileRegions}, reached through
 * {@link #files()}): the bytes queued before it go first, then the region, then the bytes
 * queued after it. Every method that hands bytes to the kernel ({@link #flush},
 * {@link #gather}, {@link #headLength}) therefore stops at the region's fence
 * ({@link #sendable}); {@link #drained} says whether nothing at all is left to send.
 */
public final class OutboundQueue {
    /** iovecs per writev: enough to cover the high water mark in small buffers without a long loop. */
    public static final int MAX_IOV = 64;

    private final ConnectionTable table;
    private final BufferPool pool;
    private final MemorySegment region;
    private final MemorySegment iovecs;
    private final MemorySegment msghdr;
    private final FileRegions files;

    public OutboundQueue(Arena arena, ConnectionTable table, BufferPool pool, FileRegions files) {
        this.table = table;
        this.pool = pool;
        this.files = files;
        this.region = pool.region();
        this.iovecs = arena.allocate(Uio.iovecArraySize(MAX_IOV), 16);
        this.msghdr = arena.allocate(Msghdr.SIZE, 8);
        msghdr.set(JAVA_LONG, Msghdr.MSG_IOV, iovecs.address());
    }

    /** The file regions queued behind (and before) these bytes. */
    public FileRegions files() {
        return files;
    }

    public long pending(int slot) {
        return table.getLong(slot, PENDING);
    }

    /** Queued bytes the kernel may take now: all of them, or those before the connection's file region. */
    public long sendable(int slot) {
        long pending = table.getLong(slot, PENDING);
        return files.active(slot) ? Math.min(pending, files.fence(slot)) : pending;
    }

    /** Whether nothing is left to send: no queued byte and no file region. */
    public boolean drained(int slot) {
        return table.getLong(slot, PENDING) == 0 && !files.active(slot);
    }

    /**
     * Copies {@code length} bytes of {@code data} from {@code offset} to the end of the queue.
     * False when the pool ran out of buffers (what fitted stays queued).
     */
    public boolean append(int slot, MemorySegment data, long offset, long length) {
        int tail = table.getInt(slot, OUT_TAIL_BUF);
        int tailPos = table.getInt(slot, OUT_TAIL_POS);
        while (length > 0) {
            if (tail < 0 || tailPos == pool.capacity(tail)) {
                int fresh = length > 4096 ? pool.acquireLargest() : pool.acquire((int) length);
                if (fresh < 0) {
                    fresh = pool.acquireLargest();
                }
                if (fresh < 0) {
                    table.setInt(slot, OUT_TAIL_BUF, tail);
                    table.setInt(slot, OUT_TAIL_POS, tailPos);
                    return false;
                }
                if (tail < 0) {
                    table.setInt(slot, OUT_HEAD_BUF, fresh);
                    table.setInt(slot, OUT_HEAD_POS, 0);
                } else {
                    pool.setNext(tail, fresh);
                }
                tail = fresh;
                tailPos = 0;
            }
            int n = (int) Math.min(length, pool.capacity(tail) - tailPos);
            MemorySegment.copy(data, offset, region, pool.offset(tail) + tailPos, n);
            tailPos += n;
            offset += n;
            length -= n;
            table.setLong(slot, PENDING, table.getLong(slot, PENDING) + n);
        }
        table.setInt(slot, OUT_TAIL_BUF, tail);
        table.setInt(slot, OUT_TAIL_POS, tailPos);
        return true;
    }

    /**
     * Makes pool buffer {@code buf}, whose bytes {@code [from, to)} are the output, the whole
     * queue of {@code slot}, which must be empty: the bytes are queued without a copy and the
     * buffer is released like any other once sent. Later appends go after {@code to}.
     */
    public void adopt(int slot, int buf, int from, int to) {
        pool.setNext(buf, -1);
        table.setInt(slot, OUT_HEAD_BUF, buf);
        table.setInt(slot, OUT_HEAD_POS, from);
        table.setInt(slot, OUT_TAIL_BUF, buf);
        table.setInt(slot, OUT_TAIL_POS, to);
        table.setLong(slot, PENDING, to - from);
    }

    /** Whether the newest buffer of {@code slot}'s queue (which must not be empty) is full. */
    public boolean tailFull(int slot) {
        int tail = table.getInt(slot, OUT_TAIL_BUF);
        return tail >= 0 && table.getInt(slot, OUT_TAIL_POS) == pool.capacity(tail);
    }

    /**
     * Links pool buffer {@code buf}, full of output, behind the full tail of {@code slot}'s
     * queue ({@link #tailFull}): queued without a copy, released like any other once sent.
     */
    public void link(int slot, int buf) {
        int capacity = pool.capacity(buf);
        pool.setNext(table.getInt(slot, OUT_TAIL_BUF), buf);
        pool.setNext(buf, -1);
        table.setInt(slot, OUT_TAIL_BUF, buf);
        table.setInt(slot, OUT_TAIL_POS, capacity);
        table.setLong(slot, PENDING, table.getLong(slot, PENDING) + capacity);
    }

    /**
     * Writes as much of the queue as the socket takes with one writev. Returns the bytes
     * written, or {@code -EAGAIN}; throws {@code SyscallException} on a socket error.
     */
    public long flush(int slot, int fd) {
        return flush(slot, fd, 0);
    }

    /**
     * {@link #flush(int, int)} with MSG_* {@code flags} (MSG_MORE before a file region): one
     * sendmsg(2) instead of writev(2) when there are flags.
     */
    public long flush(int slot, int fd, int flags) {
        int count = gather(slot, iovecs, MAX_IOV);
        if (count == 0) {
            return 0;
        }
        long written;
        if (flags == 0) {
            written = Uio.writev(fd, iovecs, count);
        } else {
            msghdr.set(JAVA_LONG, Msghdr.MSG_IOVLEN, count);
            written = Uio.sendmsg(fd, msghdr, flags);
        }
        if (written > 0) {
            consume(slot, written);
        }
        return written;
    }

    /**
     * Describes up to {@code max} buffers of the queue, oldest first, as iovecs in
     * {@code into}; returns how many. The queue is unchanged until {@link #consume}, so the
     * bytes stay put while the kernel sends them.
     */
    public int gather(int slot, MemorySegment into, int max) {
        int buf = table.getInt(slot, OUT_HEAD_BUF);
        long left = sendable(slot);
        if (buf < 0 || left == 0) {
            return 0;
        }
        int headPos = table.getInt(slot, OUT_HEAD_POS);
        int tail = table.getInt(slot, OUT_TAIL_BUF);
        int tailPos = table.getInt(slot, OUT_TAIL_POS);
        int count = 0;
        for (int b = buf; b >= 0 && count < max && left > 0; b = pool.next(b)) {
            int start = b == buf ? headPos : 0;
            int end = b == tail ? tailPos : pool.capacity(b);
            long n = Math.min(end - start, left);
            Uio.setIovec(into, count++, pool.address(b) + start, n);
            left -= n;
        }
        return count;
    }

    /** Whether the sendable part of {@code slot}'s queue ({@link #sendable}) spans more than one buffer. */
    public boolean spansBuffers(int slot) {
        int buf = table.getInt(slot, OUT_HEAD_BUF);
        return buf >= 0 && buf != table.getInt(slot, OUT_TAIL_BUF) && sendable(slot) > rawHeadLength(slot, buf);
    }

    /** Address of the oldest queued byte of {@code slot}; the queue must not be empty. */
    public long headAddress(int slot) {
        return pool.address(table.getInt(slot, OUT_HEAD_BUF)) + table.getInt(slot, OUT_HEAD_POS);
    }

    /** Sendable bytes contiguous from {@link #headAddress}: the rest of the oldest buffer, up to the fence. */
    public int headLength(int slot) {
        return (int) Math.min(rawHeadLength(slot, table.getInt(slot, OUT_HEAD_BUF)), sendable(slot));
    }

    private int rawHeadLength(int slot, int buf) {
        int end = buf == table.getInt(slot, OUT_TAIL_BUF) ? table.getInt(slot, OUT_TAIL_POS) : pool.capacity(buf);
        return end - table.getInt(slot, OUT_HEAD_POS);
    }

    /** Drops the first {@code bytes} of the queue (the kernel took them), releasing emptied buffers. */
    public void consume(int slot, long bytes) {
        table.setLong(slot, PENDING, table.getLong(slot, PENDING) - bytes);
        files.queueConsumed(slot, bytes);
        int buf = table.getInt(slot, OUT_HEAD_BUF);
        int headPos = table.getInt(slot, OUT_HEAD_POS);
        int tail = table.getInt(slot, OUT_TAIL_BUF);
        while (bytes > 0) {
            int end = buf == tail ? table.getInt(slot, OUT_TAIL_POS) : pool.capacity(buf);
            int available = end - headPos;
            if (bytes < available) {
                headPos += (int) bytes;
                break;
            }
            bytes -= available;
            int following = pool.next(buf);
            if (buf == tail) {
                pool.release(buf);
                buf = -1;
                headPos = 0;
                table.setInt(slot, OUT_TAIL_BUF, -1);
                table.setInt(slot, OUT_TAIL_POS, 0);
                break;
            }
            pool.release(buf);
            buf = following;
            headPos = 0;
        }
        table.setInt(slot, OUT_HEAD_BUF, buf);
        table.setInt(slot, OUT_HEAD_POS, headPos);
    }

    /** Drops everything queued for {@code slot} (its file region too) and returns its buffers to the pool. */
    public void discard(int slot) {
        files.clear(slot);
        int buf = table.getInt(slot, OUT_HEAD_BUF);
        while (buf >= 0) {
            int following = pool.next(buf);
            pool.release(buf);
            buf = following;
        }
        table.setInt(slot, OUT_HEAD_BUF, -1);
        table.setInt(slot, OUT_TAIL_BUF, -1);
        table.setInt(slot, OUT_HEAD_POS, 0);
        table.setInt(slot, OUT_TAIL_POS, 0);
        table.setLong(slot, PENDING, 0);
    }
}
