package dev.keel.bench;

/**
 * The JNI peer of {@link DowncallBench}: the same two libc calls through the tiny library
 * {@code native/jni/keeljnibench.c} (built into {@code native/build/libkeeljnibench.so}).
 *
 * <p>The library is loaded with {@link System#load} from the absolute path in the system
 * property {@value #LIBRARY_PROPERTY}, which {@code bench/run.sh} sets; a missing property fails
 * the JNI benchmarks with a clear message instead of picking up some other copy from
 * {@code java.library.path}.
 */
public final class JniCalls {
    /** System property holding the absolute path of {@code libkeeljnibench.so}. */
    public static final String LIBRARY_PROPERTY = "keel.jnibench.lib";

    static {
        String path = System.getProperty(LIBRARY_PROPERTY);
        if (path == null || path.isEmpty()) {
            throw new UnsatisfiedLinkError("-D" + LIBRARY_PROPERTY
                    + "=<path to libkeeljnibench.so> is not set; run the benchmarks with bench/run.sh");
        }
        System.load(path);
    }

    private JniCalls() {
    }

    /** {@code pid_t getpid(void);} */
    static native int getpid();

    /** {@code ssize_t write(int fd, const void *buf, size_t count);} with {@code buf} as an address. */
    static native long write(int fd, long addr, long len);
}
