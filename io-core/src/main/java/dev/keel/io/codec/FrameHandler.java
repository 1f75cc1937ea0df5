package dev.keel.io.codec;

import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;

import java.lang.foreign.MemorySegment;

/**
 * What an application does with the frames a framer ({@link LengthFieldFramer},
 * {@link DelimiterFramer}) cuts from a connection's bytes. A frame is named by a segment, an
 * offset and a length rather than a slice of its own, so that cutting it allocates nothing:
 * the bytes are valid only during the call. The connection's other events ({@code onOpen},
 * {@code onWritable}, {@code onClose}, {@code onConnectFailed}, ...) reach this handler as
 * usual; {@code onData} is the framer's and is not called here.
 */
public interface FrameHandler extends ConnectionHandler {
    /** One whole frame: {@code length} bytes of {@code data} from {@code offset}. */
    void onFrame(Connection connection, MemorySegment data, long offset, long length);

    /** Not called: the framer takes the connection's bytes and calls {@link #onFrame}. */
    @Override
    default void onData(Connection connection, MemorySegment data) {
        throw new UnsupportedOperationException("a FrameHandler receives frames, not bytes: wrap it in a framer");
    }
}
