package dev.keel.io;

import dev.keel.io.uring.IoUringSupport;
import java.util.Locale;

/**
 * How an {@link EventLoopGroup}'s loops talk to the kernel. The handler API is the same for
 * every transport; only the system calls underneath differ.
 */
public enum Transport {
    /** Level-triggered epoll: readiness, then read(2)/write(2)/writev(2) per connection. */
    EPOLL("epoll"),
    /**
     * io_uring: multishot accept, multishot recv into a provided buffer ring, sends through the
     * ring, one io_uring_enter per loop pass. Needs Linux 6.0 or later with io_uring permitted.
     */
    IO_URING("io_uring"),
    /**
     * io_uring when this process may use it (kernel, sysctl and seccomp permitting, the needed
     * operations present), else epoll, with one log line saying why. The probe can be made to
     * fail on purpose with {@code -Dkeel.io_uring.disabled=true} ({@link #IO_URING_DISABLED_PROPERTY}).
     */
    AUTO("auto");

    /**
     * System property that forbids io_uring to keel when {@code true}, as a seccomp filter
     * would: {@link #AUTO} then serves over epoll and {@link #IO_URING} refuses to start. Read
     * whenever a group starts.
     */
    public static final String IO_URING_DISABLED_PROPERTY = "keel.io_uring.disabled";

    private final String label;

    Transport(String label) {
        this.label = label;
    }

    /** The name {@link #parse} takes: {@code epoll}, {@code io_uring} or {@code auto}. */
    public String label() {
        return label;
    }

    /**
     * The transport named {@code name}: {@code epoll}, {@code io_uring} (also {@code io-uring},
     * {@code iouring}) or {@code auto}, in any case.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Transport parse(String name) {
        if (name != null) {
            switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "epoll" -> {
                    return EPOLL;
                }
                case "io_uring", "io-uring", "iouring" -> {
                    return IO_URING;
                }
                case "auto" -> {
                    return AUTO;
                }
                default -> {
                    // fall through to the error below
                }
            }
        }
        throw new IllegalArgumentException("unknown transport '" + name + "': expected epoll, io_uring or auto");
    }

    /**
     * Why {@link #IO_URING} cannot run in this process (kernel too old, io_uring forbidden by
     * sysctl or seccomp, {@link #IO_URING_DISABLED_PROPERTY} set), or null when it can: the
     * probe {@link #AUTO} makes, for callers that want to decide or report before starting.
     */
    public static String ioUringUnavailableReason() {
        IoUringSupport s = IoUringSupport.probe();
        return s.usable() ? null : s.reason();
    }

    @Override
    public String toString() {
        return label;
    }
}
