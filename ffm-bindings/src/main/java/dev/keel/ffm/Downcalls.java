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
 * <p>Why recvmmsg and sendmmsg, the calls an epoll loop makes per datagram batch, do not capture
 * errno: a capturing handle slices its capture segment on every call
 * ({@code SharedUtils.checkCaptureSegment}: {@code asSlice(0, captureStateLayout())}), and that
 * slice is a heap object unless C2 inlines the whole stub into the caller and escape analysis
 * removes it. Whether it does depends on the call-site profile and on what else the JVM has
 * compiled: measured on JDK 25, the slice escaped into a not-inlined {@code SharedUtils.checkNative}
 * ("too big": 38 bytecodes, a site the profile called cold) and 40 bytes were allocated per call
 * in one JVM, none in another, for the same loop. Those bindings call a handle without capture
 * ({@link #plainHandle}), which allocates nothing however it is compiled, and learn errno only
 * when the call failed, by making it again with capture in a way that cannot change the outcome
 * (see {@link Datagrams}).
 *
 * <p>The other per-pass calls still capture, and so rely on C2 scalar-replacing the slice (the
 * zero-allocation tests of io-core hold them to it). The per-message TCP calls (read, write,
 * writev, sendfile, accept4): a failed TCP read or write consumes the socket's pending error
 * (ECONNRESET), which a second call would not see. The waits (epoll_wait, io_uring_enter) and
 * the eventfd wake-up: capture-free variants were built (a failed wait named by a second,
 * non-blocking one; ETIME told by the clock) and pass the interpreted probe of
 * HotCallsAllocationTest, but a timer loop built on them allocated a few hundred bytes per
 * thousand idle passes, sporadically, that the capturing waits do not show
 * (Epoll/UringTimersTest.shouldAllocateNothingWhileAPeriodicTaskRuns: 9 of 24 interleaved runs
 * failed, none of 24 with capture; not a deoptimisation, a compilation or the failure path —
 * cause not found), so they were not kept.
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
