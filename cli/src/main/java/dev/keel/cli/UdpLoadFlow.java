package dev.keel.cli;

import dev.keel.io.Datagram;
import dev.keel.io.DatagramEndpoint;
import dev.keel.io.DatagramHandler;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * One UDP flow of {@code keel load --udp}: a datagram endpoint connected to the echo server that
 * keeps {@code depth} datagrams of {@code size} bytes in flight. Each datagram starts with an
 * 8-byte tag, {@code sequence * depth + slot}, naming the slot that remembers when it left; the
 * rest is the {@link LoadPattern} message of that tag, so every byte of an echo is checked
 * against what was sent. UDP may lose datagrams: one unanswered after {@code lossTimeoutNanos}
 * is counted lost and its slot reused ({@link #expire}); an echo that comes after that is
 * counted late, not measured. Closed loop or fixed rate as for TCP ({@link LoadConnection}).
 * Loop thread only; nothing here allocates per datagram.
 */
final class UdpLoadFlow implements DatagramHandler, LoadFlow {
    /** Bytes of the tag each datagram starts with. */
    static final int HEADER = Long.BYTES;

    private final LoadPattern pattern;
    private final LoadLoop stats;
    private final int id;
    private final int size;
    private final int depth;
    private final long intervalNanos;
    private final long firstDueOffset;
    private final long lossTimeoutNanos;
    /** The datagram being sent: tag, then the pattern's bytes; the endpoint's queue copies it. */
    private final MemorySegment scratch;
    /** Per slot: the tag in flight (-1: free) and when it left (closed loop) or was due (fixed rate). */
    private final long[] tags;
    private final long[] startedAt;
    /** Free slots, a stack. */
    private final int[] free;
    private int freeCount;
    private DatagramEndpoint endpoint;
    private long sequence;
    private long nextDue;
    private boolean stopping;
    private boolean closed;

    UdpLoadFlow(LoadPattern pattern, LoadLoop stats, int id, int size, int depth, long intervalNanos,
                long firstDueOffset, long lossTimeoutNanos, MemorySegment scratch) {
        this.pattern = pattern;
        this.stats = stats;
        this.id = id;
        this.size = size;
        this.depth = depth;
        this.intervalNanos = intervalNanos;
        this.firstDueOffset = firstDueOffset;
        this.lossTimeoutNanos = lossTimeoutNanos;
        this.scratch = scratch;
        this.tags = new long[depth];
        this.startedAt = new long[depth];
        this.free = new int[depth];
        for (int i = 0; i < depth; i++) {
            tags[i] = -1;
            free[freeCount++] = depth - 1 - i;
        }
    }

    /** Loop thread: the endpoint is open. */
    void opened(DatagramEndpoint e) {
        endpoint = e;
        stats.opened(this);
    }

    @Override
    public void start(long startNanos) {
        if (intervalNanos == 0) {
            while (freeCount > 0) {
                send(System.nanoTime());
            }
        } else {
            nextDue = startNanos + firstDueOffset;
            pace(System.nanoTime());
        }
    }

    @Override
    public void pace(long now) {
        while (!stopping && freeCount > 0 && nextDue - now <= 0) {
            send(nextDue);
            nextDue += intervalNanos;
        }
    }

    private void send(long startNanos) {
        int slot = free[--freeCount];
        long tag = sequence++ * depth + slot;
        tags[slot] = tag;
        startedAt[slot] = startNanos;
        scratch.set(JAVA_LONG_UNALIGNED, 0, tag);
        MemorySegment.copy(message(tag), HEADER, scratch, HEADER, size - HEADER);
        endpoint.send(scratch, 0, size); // a refusal is counted (onSendDropped); the slot expires as lost
    }

    private MemorySegment message(long tag) {
        return pattern.message(id, tag);
    }

    @Override
    public void onDatagram(DatagramEndpoint e, Datagram d) {
        MemorySegment p = d.payload();
        long tag = d.length() >= HEADER ? p.get(JAVA_LONG_UNALIGNED, 0) : -1;
        if (d.length() != size || tag < 0
                || MemorySegment.mismatch(p, HEADER, size, message(tag), HEADER, size) >= 0) {
            stats.failed("flow " + id + ": an echo of " + d.length() + " bytes is not a datagram that was sent");
            return;
        }
        int slot = (int) (tag % depth);
        if (tags[slot] != tag) {
            stats.late(); // given up on already (or a duplicate)
            return;
        }
        long now = System.nanoTime();
        stats.record(now - startedAt[slot]);
        stats.bytesChecked(size);
        release(slot);
        if (!stopping && intervalNanos == 0) {
            send(now);
        } else if (intervalNanos != 0) {
            pace(now);
        }
        closeWhenDone();
    }

    /** The loss check: datagrams unanswered for the loss timeout are lost; a closed loop sends anew. */
    void expire(long now) {
        for (int slot = 0; slot < depth; slot++) {
            if (tags[slot] >= 0 && now - startedAt[slot] > lossTimeoutNanos) {
                release(slot);
                stats.lost(1);
                if (!stopping && intervalNanos == 0) {
                    send(now);
                }
            }
        }
        if (intervalNanos != 0) {
            pace(now);
        }
        closeWhenDone();
    }

    private void release(int slot) {
        tags[slot] = -1;
        free[freeCount++] = slot;
    }

    @Override
    public void onSendDropped(DatagramEndpoint e, int count, int errno) {
        stats.dropped(count);
    }

    @Override
    public void onError(DatagramEndpoint e, int errno) {
        stats.failed("flow " + id + ": the socket reported " + dev.keel.ffm.gen.Errno.name(errno));
    }

    @Override
    public void stop() {
        stopping = true;
        closeWhenDone();
    }

    private void closeWhenDone() {
        if (stopping && !closed && freeCount == depth && endpoint != null) {
            closed = true;
            endpoint.close();
            stats.closed(this);
        }
    }
}
