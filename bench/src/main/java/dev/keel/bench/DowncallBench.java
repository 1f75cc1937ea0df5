package dev.keel.bench;

import com.sun.jna.Pointer;
import dev.keel.ffm.gen.LinuxConstants;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What one downcall costs: the same libc calls through FFM (four linker option sets), JNI and
 * JNA, so the price of each way across the Java/native boundary can be read side by side.
 *
 * <ul>
 *   <li>{@code getcpu}: {@code sched_getcpu()}; glibc answers it from the rseq area without
 *       entering the kernel, so it is almost pure transition cost.</li>
 *   <li>{@code getpid}: {@code getpid()}, the cheapest real system call.</li>
 *   <li>{@code write}: a one-byte {@code write(2)} to {@code /dev/null} from an off-heap buffer,
 *       a system call with arguments and a pointer.</li>
 * </ul>
 *
 * Variants: {@code FfmCritical} ({@code Linker.Option.critical(false)}: no thread-state
 * transition), {@code FfmPlain} (no option), {@code FfmCapture} (captureCallState("errno") into
 * a per-thread segment looked up per call, exactly as keel's bindings do for calls that may
 * block), {@code FfmCriticalCapture} (keel's style for calls that never block), {@code Jni}
 * ({@link JniCalls}; it has no sched_getcpu) and {@code Jna} ({@link JnaCalls}, direct
 * mapping). Handles are {@code static final} and called with {@code invokeExact} so the JIT
 * sees constants, as in the bindings.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DowncallBench {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final FunctionDescriptor INT_OF_VOID = FunctionDescriptor.of(JAVA_INT);
    /** {@code ssize_t write(int fd, const void *buf, size_t count);} */
    private static final FunctionDescriptor WRITE = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);

    private static final MethodHandle GETPID_CRITICAL = handle("getpid", INT_OF_VOID, CRITICAL);
    private static final MethodHandle GETPID_PLAIN = handle("getpid", INT_OF_VOID);
    private static final MethodHandle GETPID_CAPTURE = handle("getpid", INT_OF_VOID, CAPTURE);
    private static final MethodHandle GETPID_CRITICAL_CAPTURE = handle("getpid", INT_OF_VOID, CAPTURE, CRITICAL);

    private static final MethodHandle GETCPU_CRITICAL = handle("sched_getcpu", INT_OF_VOID, CRITICAL);
    private static final MethodHandle GETCPU_PLAIN = handle("sched_getcpu", INT_OF_VOID);
    private static final MethodHandle GETCPU_CAPTURE = handle("sched_getcpu", INT_OF_VOID, CAPTURE);
    private static final MethodHandle GETCPU_CRITICAL_CAPTURE = handle("sched_getcpu", INT_OF_VOID, CAPTURE, CRITICAL);

    private static final MethodHandle WRITE_CRITICAL = handle("write", WRITE, CRITICAL);
    private static final MethodHandle WRITE_PLAIN = handle("write", WRITE);
    private static final MethodHandle WRITE_CAPTURE = handle("write", WRITE, CAPTURE);
    private static final MethodHandle WRITE_CRITICAL_CAPTURE = handle("write", WRITE, CAPTURE, CRITICAL);

    /** {@code int open(const char *path, int flags, ...);} set-up only. */
    private static final MethodHandle OPEN = handle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /** {@code int close(int fd);} set-up only. */
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    // Same shape as dev.keel.ffm.CallState (package-private there): one segment per thread,
    // looked up on every call, so the capture variants pay what a keel binding pays.
    private static final ThreadLocal<MemorySegment> CALL_STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Linker.Option.captureStateLayout()));

    private Arena arena;
    private MemorySegment oneByte;
    private long oneByteAddress;
    private Pointer oneBytePointer;
    private int devNull;
    private int pid;

    private static MethodHandle handle(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** Opens /dev/null, allocates the byte to write, and checks every variant answers alike. */
    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        arena = Arena.ofConfined();
        oneByte = arena.allocate(1);
        oneByte.set(JAVA_BYTE, 0L, (byte) 'k');
        oneByteAddress = oneByte.address();
        oneBytePointer = new Pointer(oneByteAddress);
        devNull = (int) OPEN.invokeExact(arena.allocateFrom("/dev/null"),
                LinuxConstants.O_WRONLY | LinuxConstants.O_CLOEXEC, 0);
        if (devNull < 0) {
            throw new IllegalStateException("open(/dev/null) failed");
        }
        pid = (int) ProcessHandle.current().pid();
        verify();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Throwable {
        int r = (int) CLOSE.invokeExact(devNull);
        arena.close();
        if (r != 0) {
            throw new IllegalStateException("close(/dev/null) failed");
        }
    }

    // A benchmark that measures a broken call is worse than none: every variant must agree.
    private void verify() {
        expect("getpid", pid, getpidFfmCritical(), getpidFfmPlain(), getpidFfmCapture(),
                getpidFfmCriticalCapture(), getpidJna());
        expect("write", 1, (int) writeFfmCritical(), (int) writeFfmPlain(), (int) writeFfmCapture(),
                (int) writeFfmCriticalCapture(), (int) writeJna());
        for (int cpu : new int[] {getcpuFfmCritical(), getcpuFfmPlain(), getcpuFfmCapture(),
                getcpuFfmCriticalCapture(), getcpuJna()}) {
            if (cpu < 0) {
                throw new IllegalStateException("sched_getcpu failed in a variant");
            }
        }
        if (System.getProperty(JniCalls.LIBRARY_PROPERTY) != null) {
            expect("getpid (JNI)", pid, getpidJni());
            expect("write (JNI)", 1, (int) writeJni());
        }
    }

    private static void expect(String what, int expected, int... got) {
        for (int g : got) {
            if (g != expected) {
                throw new IllegalStateException(what + ": expected " + expected + ", a variant returned " + g);
            }
        }
    }

    /** The harness alone: what every number below includes anyway. */
    @Benchmark
    public int baseline() {
        return pid;
    }

    // ---- getpid()

    @Benchmark
    public int getpidFfmCritical() {
        try {
            return (int) GETPID_CRITICAL.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getpidFfmPlain() {
        try {
            return (int) GETPID_PLAIN.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getpidFfmCapture() {
        try {
            return (int) GETPID_CAPTURE.invokeExact(CALL_STATE.get());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getpidFfmCriticalCapture() {
        try {
            return (int) GETPID_CRITICAL_CAPTURE.invokeExact(CALL_STATE.get());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getpidJni() {
        return JniCalls.getpid();
    }

    @Benchmark
    public int getpidJna() {
        return JnaCalls.getpid();
    }

    // ---- sched_getcpu() (JNI has no binding for it: native/jni/keeljnibench.c exports two calls)

    @Benchmark
    public int getcpuFfmCritical() {
        try {
            return (int) GETCPU_CRITICAL.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getcpuFfmPlain() {
        try {
            return (int) GETCPU_PLAIN.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getcpuFfmCapture() {
        try {
            return (int) GETCPU_CAPTURE.invokeExact(CALL_STATE.get());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getcpuFfmCriticalCapture() {
        try {
            return (int) GETCPU_CRITICAL_CAPTURE.invokeExact(CALL_STATE.get());
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public int getcpuJna() {
        return JnaCalls.sched_getcpu();
    }

    // ---- write(fd, buf, 1) to /dev/null

    @Benchmark
    public long writeFfmCritical() {
        try {
            return (long) WRITE_CRITICAL.invokeExact(devNull, oneByte, 1L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public long writeFfmPlain() {
        try {
            return (long) WRITE_PLAIN.invokeExact(devNull, oneByte, 1L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public long writeFfmCapture() {
        try {
            return (long) WRITE_CAPTURE.invokeExact(CALL_STATE.get(), devNull, oneByte, 1L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public long writeFfmCriticalCapture() {
        try {
            return (long) WRITE_CRITICAL_CAPTURE.invokeExact(CALL_STATE.get(), devNull, oneByte, 1L);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Benchmark
    public long writeJni() {
        return JniCalls.write(devNull, oneByteAddress, 1L);
    }

    @Benchmark
    public long writeJna() {
        return JnaCalls.write(devNull, oneBytePointer, 1L);
    }
}
