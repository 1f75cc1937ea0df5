package dev.keel.io;

/**
 * Pins the calling thread to a CPU and returns the CPU it then runs on (read back from the
 * kernel). Placement comes into a loop as a value, so a loop also runs unpinned in a test.
 */
@FunctionalInterface
public interface CpuPinner {
    /**
     * Pins the calling thread (a loop thread at start-up) to {@code cpu} and returns the CPU it
     * runs on afterwards. A system call or two; may throw {@link dev.keel.ffm.SyscallException} if
     * the CPU is not allowed.
     */
    int pinCurrentThread(int cpu);
}
