package dev.keel.io;

import dev.keel.ffm.Files;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;
import dev.keel.ffm.gen.Errno;

import dev.keel.io.loop.SocketErrors;

import java.util.concurrent.RejectedExecutionException;

/**
 * Classes on error paths load lazily, and loading one opens its jar: once the process is out of
 * descriptors (EMFILE) that fails, turning a refused accept4 into a NoClassDefFoundError.
 * Loading them when a loop starts keeps the error paths working when they are needed.
 */
final class ErrorPaths {
    private ErrorPaths() {
    }

    static void preload() {
        String message = new SyscallException("accept4", Errno.EMFILE).getMessage();
        assert message != null;
        for (Class<?> c : new Class<?>[] {Files.class, Sockets.class, Uio.class, StaleHandleException.class,
                LoopStats.class, LoopEvents.class, AcceptPolicy.class, SocketErrors.class,
                RejectedExecutionException.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        new StaleHandleException(0).getMessage();
    }
}
