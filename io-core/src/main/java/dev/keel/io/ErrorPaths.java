package dev.keel.io;

import dev.keel.ffm.Files;
import dev.keel.ffm.Sockets;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;

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
        SyscallException.loadErrorPath();
        for (Class<?> c : new Class<?>[] {Files.class, Sockets.class, Uio.class, StaleHandleException.class,
                LoopStats.class, LoopEvents.class, AcceptPolicy.class, SocketErrors.class,
                RejectedExecutionException.class}) {
            try {
                Class.forName(c.getName(), true, c.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        // Every class a loop and its transports use, so that none is first read from disk when
        // the process may be out of descriptors (a loop accepts until EMFILE, then its first
        // receives need these).
        ClassLoader loader = ErrorPaths.class.getClassLoader();
        for (String name : LOOP_CLASSES) {
            try {
                Class.forName(name, false, loader); // read now, initialised when first used
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        new StaleHandleException(0).getMessage();
    }

    private static final String[] LOOP_CLASSES = {
        "dev.keel.io.LoopCore", "dev.keel.io.ConnectionLifecycle", "dev.keel.io.WritePath", "dev.keel.io.LoopTimers",
        "dev.keel.io.LoopTasks", "dev.keel.io.SocketOptions", "dev.keel.io.Connection", "dev.keel.io.CloseReason",
        "dev.keel.io.loop.ConnectionTable", "dev.keel.io.loop.BufferPool", "dev.keel.io.loop.OutboundQueue",
        "dev.keel.io.loop.TimingWheel", "dev.keel.io.loop.LoopWakeup", "dev.keel.io.epoll.EpollPoller",
        "dev.keel.io.uring.UringPoller", "dev.keel.io.uring.UringReceives", "dev.keel.io.uring.UringReceiveBuffers",
        "dev.keel.io.uring.UringSends", "dev.keel.io.uring.UringAcceptor", "dev.keel.io.uring.UringPass",
        "dev.keel.io.uring.UringRings", "dev.keel.ffm.IoUring", "dev.keel.ffm.IoUringPrep", "dev.keel.ffm.IoUringRing",
        "dev.keel.ffm.ProvidedBufferRing", "dev.keel.ffm.Epoll", "dev.keel.ffm.EventFd", "dev.keel.io.Connector",
        "dev.keel.io.ConnectFailure", "dev.keel.io.uring.UringConnects",
    };
}
