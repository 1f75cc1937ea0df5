package dev.keel.io.loop;

import dev.keel.ffm.Datagrams;
import dev.keel.ffm.SocketAddresses;
import dev.keel.ffm.gen.LinuxLayouts.Iovec;
import dev.keel.ffm.gen.LinuxLayouts.Mmsghdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An endpoint's outgoing datagrams, copied into native slots until the transport sends them:
 * a ring of {@code capacity} slots, each a {@code struct mmsghdr} (in one contiguous array, for
 * sendmmsg), an iovec, a sockaddr and {@code slotSize} bytes of payload. A datagram offered
 * when every slot is taken is refused (the caller counts it as dropped): the ring is the
 * endpoint's bounded send queue. Slots between {@link #head} and {@link #submitted} are in the
 * kernel's hands (io_uring) until {@link #release}d. Loop thread only.
 */
public final class DatagramSendRing {
    private final int capacity;
    private final int slotSize;
    private final MemorySegment headers;
    private final MemorySegment iovecs;
    private final MemorySegment names;
    private final MemorySegment payloads;
    /** The mmsghdr array from each slot on, made once (a sendmmsg starts at any slot without allocating). */
    private final MemorySegment[] headersFrom;
    /** Oldest slot still held (queued or in flight), as a running count. */
    private long head;
    /** Slots before this were handed to the kernel. */
    private long submitted;
    /** Next free slot, as a running count. */
    private long tail;

    public DatagramSendRing(Arena arena, int capacity, int slotSize) {
        this.capacity = capacity;
        this.slotSize = slotSize;
        this.headers = arena.allocate(Datagrams.mmsghdrArraySize(capacity), Mmsghdr.ALIGNMENT);
        this.iovecs = arena.allocate(Iovec.SIZE * capacity, 8);
        this.names = arena.allocate(SocketAddresses.STORAGE_SIZE * capacity, 8);
        this.payloads = arena.allocate((long) slotSize * capacity, 64);
        this.headersFrom = new MemorySegment[capacity];
        for (int i = 0; i < capacity; i++) {
            headersFrom[i] = headers.asSlice(Mmsghdr.SIZE * i);
            Datagrams.setIovec(iovecs, Iovec.SIZE * i, payloads.address() + (long) slotSize * i, 0);
        }
    }

    /**
     * Copies one datagram into the next slot, addressed to the {@code nameLength}-byte sockaddr
     * in {@code name} (0: the connected peer). False when the ring is full or the datagram is
     * larger than a slot.
     */
    public boolean offer(MemorySegment data, long offset, long length, MemorySegment name, int nameLength) {
        if (tail - head == capacity || length > slotSize) {
            return false;
        }
        int i = (int) (tail % capacity);
        long payload = (long) slotSize * i;
        MemorySegment.copy(data, offset, payloads, payload, length);
        iovecs.set(java.lang.foreign.ValueLayout.JAVA_LONG, Iovec.SIZE * i + Iovec.IOV_LEN, length);
        long nameAddress = 0;
        if (nameLength > 0) {
            long at = SocketAddresses.STORAGE_SIZE * i;
            MemorySegment.copy(name, 0, names, at, nameLength);
            nameAddress = names.address() + at;
        }
        Datagrams.setMsghdr(headers, Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR, nameAddress, nameLength,
                iovecs.address() + Iovec.SIZE * i, 0, 0);
        tail++;
        return true;
    }

    /** Datagrams queued and not yet handed to the kernel. */
    public int unsubmitted() {
        return (int) (tail - submitted);
    }

    /** Index of the first unsubmitted slot. */
    public int firstUnsubmitted() {
        return (int) (submitted % capacity);
    }

    /** Unsubmitted slots that follow one another in memory from {@link #firstUnsubmitted} (up to the ring's end). */
    public int contiguousUnsubmitted() {
        return (int) Math.min(tail - submitted, capacity - submitted % capacity);
    }

    /** The mmsghdr array from slot {@code i} on (for sendmmsg from slot {@link #firstUnsubmitted}). */
    public MemorySegment headersFrom(int i) {
        return headersFrom[i];
    }

    /** Address of slot {@code i}'s msghdr (for a sendmsg SQE). */
    public long msghdrAddress(int i) {
        return headers.address() + Mmsghdr.SIZE * i + Mmsghdr.MSG_HDR;
    }

    /** The next {@code n} unsubmitted slots were handed to the kernel. */
    public void submitted(int n) {
        submitted += n;
    }

    /** The oldest {@code n} submitted slots are free again. */
    public void release(int n) {
        head += n;
    }

    /** Drops every unsubmitted datagram (after the kernel refused them); returns how many. */
    public int dropUnsubmitted() {
        int n = (int) (tail - submitted);
        tail = submitted;
        return n;
    }

    /** Slots handed to the kernel and not yet released. */
    public int inFlight() {
        return (int) (submitted - head);
    }

    /** The largest datagram a slot holds. */
    public int slotSize() {
        return slotSize;
    }

    public int capacity() {
        return capacity;
    }
}
