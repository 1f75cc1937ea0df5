package dev.keel.cli;

import dev.keel.ffm.Seccomp;
import dev.keel.ffm.gen.Errno;

import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_enter;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_register;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_setup;

/**
 * {@code keel} under a seccomp filter that fails the io_uring system calls with EPERM, as a
 * container's default profile does: installed on the main thread before anything starts, so
 * every loop thread inherits it.
 */
public final class NoUringKeel {
    private NoUringKeel() {
    }

    public static void main(String[] args) {
        Seccomp.denyOnCurrentThread(Errno.EPERM, SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register);
        Keel.main(args);
    }
}
