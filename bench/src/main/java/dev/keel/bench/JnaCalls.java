package dev.keel.bench;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The JNA peer of {@link DowncallBench}, in JNA's fastest style: direct mapping
 * ({@link Native#register}) of static native methods onto libc, not an interface proxy.
 */
final class JnaCalls {
    static {
        Native.register(NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private JnaCalls() {
    }

    /** {@code pid_t getpid(void);} */
    static native int getpid();

    /** {@code int sched_getcpu(void);} */
    static native int sched_getcpu();

    /** {@code ssize_t write(int fd, const void *buf, size_t count);} (size_t is 64-bit on x86-64). */
    static native long write(int fd, Pointer buf, long count);
}
