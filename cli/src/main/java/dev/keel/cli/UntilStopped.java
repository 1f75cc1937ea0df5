package dev.keel.cli;

import java.util.concurrent.CountDownLatch;

/**
 * Keeps a server command running until the JVM is asked to stop (SIGINT, SIGTERM: the JVM
 * runs its shutdown hooks), then closes the server from the hook so that loops stop,
 * connections close and descriptors are released before the process exits.
 */
final class UntilStopped {
    private UntilStopped() {
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
