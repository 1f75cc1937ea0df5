package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Builds the downcall handles of the binding classes and turns raw results into values or
 * {@link SyscallException}s. Every handle made with {@link #errnoHandle} takes this thread's
 * {@link CallState} segment as its first argument.
 *
 * <p>Initialising this class refuses, with {@link NativeArchitecture#require}, a machine whose
 * architecture the generated constants were not made for.
 *
 * <p>Result convention of the bindings: a call that may legitimately fail on a hot path
 * (EAGAIN, EINTR, EINPROGRESS) returns {@code -errno}; every other failure throws.
 *
 * <p>Why the calls an epoll loop makes on every pass or datagram (epoll_wait, recvmmsg, sendmmsg,
 * the eventfd wake-up) do not capture errno: a capturing handle slices the capture segment on every call
 * ({@code SharedUtils.checkCaptureSegment}: {@code asSlice(0, captureStateLayout())}), and that
 * slice is a heap object unless C2 inlines the whole stub into the caller and escape analysis
 * removes it. Whether it does depends on the call-site profile and on what else the JVM has
 * compiled: measured on JDK 25, the slice escaped into a not-inlined {@code SharedUtils.checkNative}
 * ("too big": 38 bytecodes, a site the profile called cold) and 40 bytes were allocated per call
 * in one JVM, none in another, for the same loop. Those bindings call a handle without capture
 * ({@link #plainHandle}, {@link #variadicPlainHandle}), which allocates nothing however it is
 * compiled, and learn errno only when the call failed, by making it again with capture in a
 * way that cannot change the outcome (each binding says how). Still capturing, and so relying on
 * C2 scalar-replacing the slice (the zero-allocation tests of io-core hold them to it): the
 * per-message TCP calls (read, write, writev, sendfile, accept4), because a failed TCP read or
 * write consumes the socket's pending error (ECONNRESET), which a second call would not see; and
 * io_uring_enter, whose capture-free variant (the same enter again without waiting to name a
 * failure, ETIME told by the clock) was built and measured, and left an io_uring loop with
 * sporadic allocations of a few hundred bytes per thousand idle passes that capture does not
 * show (UringTimersTest, interleaved runs: 5 of 15 failed, against none of 15) — cause not found.
 */
public final class Downcalls {
    static {
        // First, before any handle exists: the generated numbers are one architecture's.
        NativeArchitecture.require(System.getProperty("os.arch"));
    }

    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    private Downcalls() {
    }

    /** A handle to libc's {@code name} that captures errno; {@code critical} for calls that never block. */
    static MethodHandle errnoHandle(String name, FunctionDescriptor descriptor, boolean critical) {
        MemorySegment symbol = find(name);
        return critical
                ? LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO, CRITICAL)
                : LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO);
    }

    /** A handle to libc's {@code name} for a call that cannot fail (no errno). */
    static MethodHandle plainHandle(String name, FunctionDescriptor descriptor, boolean critical) {
        MemorySegment symbol = find(name);
        return critical
                ? LINKER.downcallHandle(symbol, descriptor, CRITICAL)
                : LINKER.downcallHandle(symbol, descriptor);
    }

    /** A variadic handle (first variadic argument at {@code firstVariadic}) that captures errno. */
    static MethodHandle variadicHandle(String name, FunctionDescriptor descriptor, int firstVariadic) {
        return LINKER.downcallHandle(find(name), descriptor, CAPTURE_ERRNO,
                Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** A variadic handle without errno capture, for the hot calls (see the class comment). */
    static MethodHandle variadicPlainHandle(String name, FunctionDescriptor descriptor, int firstVariadic) {
        return LINKER.downcallHandle(find(name), descriptor, Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static MemorySegment find(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /** {@code result} if it is not negative, else a {@link SyscallException} for {@code call}. */
    static int check(String call, int result, MemorySegment state) {
        if (result < 0) {
            throw new SyscallException(call, CallState.errno(state));
        }
        return result;
    }

    /** {@code result} if it is not negative, else a {@link SyscallException} for {@code call}. */
    static long check(String call, long result, MemorySegment state) {
        if (result < 0) {
            throw new SyscallException(call, CallState.errno(state));
        }
        return result;
    }

    /** Like {@link #check(String, int, MemorySegment)} but EAGAIN and EINTR come back as {@code -errno}. */
    static int checkRetryable(String call, int result, MemorySegment state) {
        if (result < 0) {
            int errno = CallState.errno(state);
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return -errno;
            }
            throw new SyscallException(call, errno);
        }
        return result;
    }

    /** Like {@link #check(String, long, MemorySegment)} but EAGAIN and EINTR come back as {@code -errno}. */
    static long checkRetryable(String call, long result, MemorySegment state) {
        if (result < 0) {
            int errno = CallState.errno(state);
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return -errno;
            }
            throw new SyscallException(call, errno);
        }
        return result;
    }

    /** Unwraps what {@code invokeExact} declares: downcalls themselves throw nothing checked. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("downcall failed", t);
    }
}
