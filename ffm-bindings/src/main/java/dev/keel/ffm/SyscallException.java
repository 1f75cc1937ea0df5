package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;

/**
 * A system call failed with an errno the caller did not expect. The message names the call,
 * the symbolic errno and its text, for example {@code accept4: EMFILE (Too many open files)}.
 */
public final class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Name of the failed call. */
    private final String call;
    /** The errno it failed with. */
    private final int errno;

    /**
     * A failure of {@code call} with {@code errno}; the message names both ({@code "accept4: EMFILE
     * (Too many open files)"}).
     */
    public SyscallException(String call, int errno) {
        super(call + ": " + Errno.name(errno) + " (" + Errno.message(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** As {@link #SyscallException(String, int)}, with {@code detail} (a path, an address) after the errno's text. */
    public SyscallException(String call, int errno, String detail) {
        super(call + ": " + Errno.name(errno) + " (" + Errno.message(errno) + "): " + detail);
        this.call = call;
        this.errno = errno;
    }

    /**
     * Loads what making and printing one of these takes (this class and the errno table). A
     * thread that must keep going once the process is out of descriptors (an event loop) calls
     * it when it starts: a class first loaded under EMFILE cannot be read from its jar or
     * directory, and a failed call would turn into a NoClassDefFoundError instead.
     */
    public static void loadErrorPath() {
        if (new SyscallException("accept4", Errno.EMFILE, "preload").getMessage() == null) {
            throw new AssertionError();
        }
    }

    /** Name of the failed call, e.g. {@code "accept4"}. */
    public String call() {
        return call;
    }

    /** The errno value the call returned. */
    public int errno() {
        return errno;
    }

    /** Symbolic name of {@link #errno()}, e.g. {@code "EMFILE"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
