package dev.keel.io;

/**
 * Pins the calling thread to a CPU and returns the CPU it then runs on (read back from the
 * kernel). Placement comes into a loop as a value, so a loop also runs unpinned in a test.
 */
@FunctionalInterface
public interface CpuPinner {
    int pinCurrentThread(int cpu);
}
