package dev.keel.cli;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;

/**
 * Keeps a server command running until the JVM is asked to stop (SIGINT, SIGTERM: the JVM
 * runs its shutdown hooks), then closes the server from the hook so that loops stop,
 * connections close and descriptors are released before the process exits.
 */
final class UntilStopped {
    private UntilStopped() {
    }

    /**
     * What every server command does once its server runs: prints its one ready line, waits for
     * SIGINT/SIGTERM, closes the server from the shutdown hook and says so on {@code err}.
     */
    static int serve(String command, String readyLine, AutoCloseable server, PrintStream out, PrintStream err) {
        out.println(readyLine);
        out.flush();
        await(command.replace(' ', '-'), () -> {
            try {
                server.close();
            } catch (Exception e) {
                err.println(command + ": " + e.getMessage());
            }
            err.println(command + ": stopped");
        });
        return Keel.EXIT_OK;
    }

    /** Registers {@code stop} as a shutdown hook and waits for it to finish. */
    static void await(String name, Runnable stop) {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            try {
                stop.run();
            } finally {
                done.countDown();
            }
        }, name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
