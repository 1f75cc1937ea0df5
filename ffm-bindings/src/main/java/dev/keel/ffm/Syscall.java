package dev.keel.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Raw system calls through libc's variadic {@code long syscall(long number, ...)}, for the
 * calls glibc does not wrap (io_uring_*, mbind, set_mempolicy, get_mempolicy, move_pages,
 * openat2). Every argument is passed as a {@code long}; pointers as their address.
 * Results follow syscall(2): {@code -1} with errno set on failure.
 */
final class Syscall {
    private static final MethodHandle SYSCALL2 = handle(2);
    private static final MethodHandle SYSCALL3 = handle(3);
    private static final MethodHandle SYSCALL4 = handle(4);
    private static final MethodHandle SYSCALL5 = handle(5);
    private static final MethodHandle SYSCALL6 = handle(6);

    private Syscall() {
    }

    private static MethodHandle handle(int args) {
        var params = new java.lang.foreign.MemoryLayout[args + 1];
        java.util.Arrays.fill(params, JAVA_LONG);
        return Downcalls.variadicHandle("syscall", FunctionDescriptor.of(JAVA_LONG, params), 1);
    }

    static long call2(MemorySegment state, int nr, long a, long b) {
        try {
            return (long) SYSCALL2.invokeExact(state, (long) nr, a, b);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static long call3(MemorySegment state, int nr, long a, long b, long c) {
        try {
            return (long) SYSCALL3.invokeExact(state, (long) nr, a, b, c);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static long call4(MemorySegment state, int nr, long a, long b, long c, long d) {
        try {
            return (long) SYSCALL4.invokeExact(state, (long) nr, a, b, c, d);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static long call5(MemorySegment state, int nr, long a, long b, long c, long d, long e) {
        try {
            return (long) SYSCALL5.invokeExact(state, (long) nr, a, b, c, d, e);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    static long call6(MemorySegment state, int nr, long a, long b, long c, long d, long e, long f) {
        try {
            return (long) SYSCALL6.invokeExact(state, (long) nr, a, b, c, d, e, f);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
