package dev.keel.numa;

import dev.keel.ffm.Mempolicy;
import dev.keel.ffm.NodeMask;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.LinuxConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A thread's default memory policy, as get_mempolicy(2) reports it (what {@code numactl --show}
 * prints as "policy" and "membind"/"preferred"/"interleave").
 *
 * @param mode  the policy name: default, preferred, bind, interleave, local, preferred-many,
 *              or {@code mode N} for one this build's headers do not name
 * @param nodes the policy's nodes (empty for default and local)
 * @param flags mode flags or-ed into the mode (MPOL_F_STATIC_NODES, ...), 0 for none
 */
public record MemoryPolicy(String mode, IdSet nodes, int flags) {
    /**
     * The calling thread's policy (a new thread inherits its creator's; the main thread's is the
     * process's as set by numactl).
     *
     * @throws NumaException SYSCALLS_BLOCKED under a seccomp filter
     */
    public static MemoryPolicy ofCurrentThread() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mode = arena.allocate(JAVA_INT);
            MemorySegment mask = NodeMask.allocate(arena);
            Mempolicy.getMempolicy(mode, mask, 0, 0);
            int m = mode.get(JAVA_INT, 0);
            return new MemoryPolicy(name(m & ~LinuxConstants.MPOL_MODE_FLAGS), IdSet.of(NodeMask.nodes(mask)),
                    m & LinuxConstants.MPOL_MODE_FLAGS);
        } catch (SyscallException e) {
            throw NumaException.from(e, "read the memory policy");
        }
    }

    static String name(int mode) {
        if (mode == LinuxConstants.MPOL_DEFAULT) {
            return "default";
        } else if (mode == LinuxConstants.MPOL_PREFERRED) {
            return "preferred";
        } else if (mode == LinuxConstants.MPOL_BIND) {
            return "bind";
        } else if (mode == LinuxConstants.MPOL_INTERLEAVE) {
            return "interleave";
        } else if (mode == LinuxConstants.MPOL_LOCAL) {
            return "local";
        } else if (mode == LinuxConstants.MPOL_PREFERRED_MANY) {
            return "preferred-many";
        }
        return "mode " + mode;
    }

    /** {@code "bind 0-1"}, {@code "default"}. */
    @Override
    public String toString() {
        return nodes.isEmpty() ? mode : mode + " " + nodes;
    }
}
