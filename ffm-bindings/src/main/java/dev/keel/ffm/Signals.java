package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxConstants;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Signal dispositions, for the one thing the JVM's signal API cannot do: take back a signal
 * that the parent process left ignored.
 *
 * <pre>{@code
 * sighandler_t signal(int signum, sighandler_t handler);
 * }</pre>
 *
 * <p>Why: an ignored signal stays ignored across fork and exec, and HotSpot will not install a
 * handler for SIGHUP, SIGINT or SIGTERM that it finds ignored ({@code sun.misc.Signal.handle}
 * then returns {@code SIG_IGN} and the handler is never called). So a server started under
 * {@code nohup}, or by anything that ignores SIGHUP (a CI runner, a supervisor), silently loses
 * its reload-on-SIGHUP. Setting the disposition back to SIG_DFL first lets the JVM install it.
 */
public final class Signals {
    private static final MethodHandle SIGNAL = Downcalls.errnoHandle("signal",
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS), false);

    private Signals() {
    }

    /**
     * Sets {@code signum}'s disposition to SIG_DFL and returns whether it was SIG_IGN. Only for
     * a signal nobody handles: a handler installed by the JVM would be taken from it.
     *
     * @throws SyscallException naming signal(2) and errno (EINVAL for a signal that cannot be set)
     */
    public static boolean restoreDefault(int signum) {
        MemorySegment st = CallState.current();
        MemorySegment old;
        try {
            old = (MemorySegment) SIGNAL.invokeExact(st, signum, MemorySegment.ofAddress(LinuxConstants.SIG_DFL));
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
        if (old.address() == LinuxConstants.SIG_ERR) {
            throw new SyscallException("signal", CallState.errno(st));
        }
        return old.address() == LinuxConstants.SIG_IGN;
    }
}
