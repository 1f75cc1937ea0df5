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
    // Constant layouts, one per width and order: a layout kept in an instance field would reach
    // its VarHandle through a call site that sees several of them once framers of both orders
    // run in one JVM, and such a megamorphic access boxes (40 bytes per frame on a loop thread).
    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int lengthBytes;
    private final boolean bigEndian;
    private final long adjustment;
    private final long maxFrameBytes;
    private final boolean keepHeader;

    private LengthFieldFramer(Builder b, FrameHandler handler) {
        super(handler);
        lengthBytes = b.lengthBytes;
        bigEndian = b.order == ByteOrder.BIG_ENDIAN;
        adjustment = b.adjustment;
        maxFrameBytes = b.maxFrameBytes;
        keepHeader = b.keepHeader;
    }

    /** A builder for a 4-byte big-endian length with the defaults; any thread. */
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
            case 2 -> Short.toUnsignedLong(bigEndian ? data.get(SHORT_BE, from) : data.get(SHORT_LE, from));
            case 4 -> Integer.toUnsignedLong(bigEndian ? data.get(INT_BE, from) : data.get(INT_LE, from));
            default -> bigEndian ? data.get(LONG_BE, from) : data.get(LONG_LE, from);
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
            case 2 -> {
                if (bigEndian) {
                    into.set(SHORT_BE, offset, (short) field);
                } else {
                    into.set(SHORT_LE, offset, (short) field);
                }
            }
            case 4 -> {
                if (bigEndian) {
                    into.set(INT_BE, offset, (int) field);
                } else {
                    into.set(INT_LE, offset, (int) field);
                }
            }
            default -> {
                if (bigEndian) {
                    into.set(LONG_BE, offset, field);
                } else {
                    into.set(LONG_LE, offset, field);
                }
            }
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

        /** A framer with these settings handing frames to {@code handler}; it keeps no per-frame state on the heap. */
        public LengthFieldFramer build(FrameHandler handler) {
            return new LengthFieldFramer(this, handler);
        }
    }
}
