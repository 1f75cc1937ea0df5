package dev.keel.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * The per-thread segment into which downcalls capture errno. One is allocated the first time
 * a thread makes a call and reused for every later call of that thread: never per call, never
 * shared between threads (errno is per thread in the kernel too).
 */
final class CallState {
    static final StructLayout LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    // An automatic arena frees a thread's segment once the thread and its ThreadLocal are gone.
    /** Bytes of per-thread scratch for small out-parameters (an int option, an epoll_event, an address length). */
    static final long SCRATCH_SIZE = 256;
    private static final ThreadLocal<MemorySegment> SEGMENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(LAYOUT));
    private static final ThreadLocal<MemorySegment> SCRATCH =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SCRATCH_SIZE, 16));

    private CallState() {
    }

    /** This thread's capture segment. */
    static MemorySegment current() {
        return SEGMENT.get();
    }

    /**
     * This thread's scratch segment for a binding's own out-parameters. A binding method may use
     * it only between its entry and its return, and never hands it to a caller.
     */
    static MemorySegment scratch() {
        return SCRATCH.get();
    }

    /** The errno captured in {@code state} by the last call that used it. */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
