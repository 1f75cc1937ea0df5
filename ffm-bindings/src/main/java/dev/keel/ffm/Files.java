package dev.keel.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * File descriptors of files: open(2), openat2(2), fstat(2), close(2).
 *
 * <pre>{@code int close(int fd);}</pre>
 */
public final class Files {
    private static final MethodHandle CLOSE = Downcalls.errnoHandle("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);

    private Files() {
    }

    /**
     * Closes {@code fd}. EINTR is not retried: on Linux the descriptor is released even then
     * (close(2), "Dealing with error returns from close()").
     */
    public static void close(int fd) {
        MemorySegment st = CallState.current();
        try {
            int r = (int) CLOSE.invokeExact(st, fd);
            if (r < 0 && CallState.errno(st) != dev.keel.ffm.gen.Errno.EINTR) {
                throw new SyscallException("close", CallState.errno(st));
            }
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
