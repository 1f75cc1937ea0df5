package dev.keel.affinity;

import java.time.Instant;

/**
 * Who holds a CPU reservation, as its holder wrote it into the lock file. The lock itself is
 * the truth of whether the CPU is held; these details say by whom.
 *
 * @param cpu    the reserved CPU
 * @param pid    the holding process, -1 if it had not yet written its details
 * @param tid    the kernel thread id of the thread that reserved it
 * @param thread  that thread's name
 * @param command what the holding process runs, as it named itself (e.g. {@code "keel serve --port 8080"});
 *                "?" when not written yet
 * @param since   when it was reserved
 */
public record CpuHolder(int cpu, long pid, long tid, String thread, String command, Instant since) {
    /** Whether the holder is this process. */
    public boolean isThisProcess() {
        return pid == ProcessHandle.current().pid();
    }

    @Override
    public String toString() {
        return "CPU " + cpu + " reserved by pid " + pid + " (thread '" + thread + "', tid " + tid + ") since " + since;
    }

    /** Who holds it in a few words: {@code pid 4242 "keel serve --port 8080"}. */
    public String who() {
        return "pid " + pid + " \"" + command + "\"";
    }
}
