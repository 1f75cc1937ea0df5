package dev.keel.io.codec;

import dev.keel.io.Connection;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Frames that start with their length: a 1, 2, 4 or 8-byte unsigned length field in either
 * byte order, whose value plus an adjustment is the number of bytes after the field (an
 * adjustment of -4 with a 4-byte field, for a length that counts itself). The handler gets the
 * body alone, or the field and the body ({@link Builder#keepHeader}). A frame whose body would
 * pass {@link Builder#maxFrameBytes} closes the connection at once as
 * {@link dev.keel.io.CloseReason#FRAME_TOO_LARGE}, as soon as its header is read, before its body
 * is waited for. Allocation-free.
 */
public final class LengthFieldFramer extends Framer {
    private final int lengthBytes;
    private final ByteOrder order;
    private final long adjustment;
    private final long maxFrameBytes;
    private final boolean keepHeader;
    private final ValueLayout.OfShort shortLayout;
    private final ValueLayout.OfInt intLayout;
    private final ValueLayout.OfLong longLayout;

    private LengthFieldFramer(Builder b, FrameHandler handler) {
        super(handler);
        lengthBytes = b.lengthBytes;
        order = b.order;
        adjustment = b.adjustment;
        maxFrameBytes = b.maxFrameBytes;
        keepHeader = b.keepHeader;
        shortLayout = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
        intLayout = ValueLayout.JAVA_INT_UNALIGNED.withOrder(order);
        longLayout = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected long frameEnd(Connection connection, MemorySegment data, long from) {
        if (data.byteSize() - from < lengthBytes) {
            return INCOMPLETE;
        }
        long field = switch (lengthBytes) {
            case 1 -> Byte.toUnsignedLong(data.get(ValueLayout.JAVA_BYTE, from));
            case 2 -> Short.toUnsignedLong(data.get(shortLayout, from));
            case 4 -> Integer.toUnsignedLong(data.get(intLayout, from));
            default -> data.get(longLayout, from);
        };
        long body = field + adjustment;
        if (field < 0 || body < 0 || body > maxFrameBytes) {
            return refuse(connection); // an 8-byte length past 2^63 is no length either
        }
        long end = from + lengthBytes + body;
        if (end > data.byteSize()) {
            return INCOMPLETE;
        }
        if (keepHeader) {
            deliver(connection, data, from, lengthBytes + body);
        } else {
            deliver(connection, data, from + lengthBytes, body);
        }
        return end;
    }

    /** Writes the length field for a body of {@code bodyBytes} at {@code offset} of {@code into}: for senders. */
    public void writeLength(MemorySegment into, long offset, long bodyBytes) {
        long field = bodyBytes - adjustment;
        switch (lengthBytes) {
            case 1 -> into.set(ValueLayout.JAVA_BYTE, offset, (byte) field);
            case 2 -> into.set(shortLayout, offset, (short) field);
            case 4 -> into.set(intLayout, offset, (int) field);
            default -> into.set(longLayout, offset, field);
        }
    }

    /** Bytes of the length field. */
    public int lengthBytes() {
        return lengthBytes;
    }

    /** Settings of a length-prefixed framer. */
    public static final class Builder {
        private int lengthBytes = 4;
        private ByteOrder order = ByteOrder.BIG_ENDIAN;
        private long adjustment;
        private long maxFrameBytes = 64 * 1024 - 8;
        private boolean keepHeader;

        private Builder() {
        }

        /** Bytes of the length field: 1, 2, 4 (default) or 8. */
        public Builder lengthBytes(int n) {
            if (n != 1 && n != 2 && n != 4 && n != 8) {
                throw new IllegalArgumentException("length field must be 1, 2, 4 or 8 bytes: " + n);
            }
            lengthBytes = n;
            return this;
        }

        /** Byte order of the length field (default big-endian, network order). */
        public Builder order(ByteOrder o) {
            order = java.util.Objects.requireNonNull(o);
            return this;
        }

        /** Added to the field's value to give the body's length (default 0). */
        public Builder adjustment(long n) {
            adjustment = n;
            return this;
        }

        /**
         * Largest body accepted (default 65,528, so that the field and the body fit the loop's
         * largest buffer, 64 KiB by default, where a frame waits until it is whole). Larger
         * frames close the connection as FRAME_TOO_LARGE; so does a frame larger than what the
         * loop can keep ({@link Connection#keep}) whatever this says.
         */
        public Builder maxFrameBytes(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxFrameBytes must not be negative: " + n);
            }
            maxFrameBytes = n;
            return this;
        }

        /** Whether the handler gets the length field with the body (default: the body alone). */
        public Builder keepHeader(boolean on) {
            keepHeader = on;
            return this;
        }

        public LengthFieldFramer build(FrameHandler handler) {
            return new LengthFieldFramer(this, handler);
        }
    }
}
