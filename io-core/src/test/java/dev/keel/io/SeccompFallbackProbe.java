package dev.keel.io;

import dev.keel.ffm.Seccomp;
import dev.keel.ffm.gen.Errno;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_enter;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_register;
import static dev.keel.ffm.gen.LinuxConstants.SYS_io_uring_setup;

/**
 * A child-process echo server for the fallback test: its main thread (and so every loop thread
 * it starts) runs under a seccomp filter that fails the three io_uring system calls with EPERM,
 * as a container's default profile does. It starts a group with {@link Transport#AUTO}, prints
 * each line the group logged ("log ..."), the transport and the port, and exits when stdin
 * closes.
 */
public final class SeccompFallbackProbe {
    private SeccompFallbackProbe() {
    }

    public static void main(String[] args) throws Exception {
        Seccomp.denyOnCurrentThread(Errno.EPERM, SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register);
        Logger log = Logger.getLogger("dev.keel.io");
        log.setUseParentHandlers(false);
        log.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                System.out.println("log " + record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        try (EventLoopGroup group = EventLoopGroup.builder().transport(Transport.AUTO).unpinned()
                .handler((connection, data) -> connection.write(data)).start()) {
            System.out.println("transport " + group.transport().label());
            System.out.println("port " + group.port());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            while (in.readLine() != null) {
                // serve until the parent closes stdin
            }
        }
    }
}
