package dev.keel.io.codec;

import dev.keel.io.Connection;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Frames ended by a delimiter, such as lines ended by {@code \n} or {@code \r\n}. The handler
 * gets each frame without its delimiter. A frame that reaches {@code maxLength} bytes without
 * its delimiter closes the connection at once as {@link dev.keel.io.CloseReason#FRAME_TOO_LARGE}.
 * The delimiter is kept off-heap; finding it allocates nothing.
 */
public final class DelimiterFramer extends Framer {
    private final MemorySegment delimiter;
    private final int delimiterLength;
    private final byte first;
    private final long maxLength;

    /**
     * A framer that cuts at each {@code delimiter}; allocates only here, never per frame.
     *
     * @param delimiter the bytes that end a frame (not empty)
     * @param maxLength the longest frame accepted, without its delimiter
     */
    public DelimiterFramer(byte[] delimiter, long maxLength, FrameHandler handler) {
        super(handler);
        if (delimiter.length == 0) {
            throw new IllegalArgumentException("empty delimiter");
        }
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must not be negative: " + maxLength);
        }
        this.delimiter = MemorySegment.ofArray(delimiter.clone());
        this.delimiterLength = delimiter.length;
        this.first = delimiter[0];
        this.maxLength = maxLength;
    }

    /** Lines ended by {@code \n} (a {@code \r} before it stays in the line), at most {@code maxLength} bytes. */
    public static DelimiterFramer lines(long maxLength, FrameHandler handler) {
        return new DelimiterFramer(new byte[] {'\n'}, maxLength, handler);
    }

    @Override
    protected long frameEnd(Connection connection, MemorySegment data, long from) {
        long size = data.byteSize();
        long last = Math.min(size - delimiterLength, from + maxLength);
        for (long i = from; i <= last; i++) {
            if (data.get(ValueLayout.JAVA_BYTE, i) == first && matches(data, i)) {
                deliver(connection, data, from, i - from);
                return i + delimiterLength;
            }
        }
        // No delimiter within maxLength bytes: the frame is too long, once that many bytes are here.
        if (size - from >= maxLength + delimiterLength) {
            return refuse(connection);
        }
        return INCOMPLETE;
    }

    private boolean matches(MemorySegment data, long at) {
        for (int k = 1; k < delimiterLength; k++) {
            if (data.get(ValueLayout.JAVA_BYTE, at + k) != delimiter.get(ValueLayout.JAVA_BYTE, k)) {
                return false;
            }
        }
        return true;
    }
}
