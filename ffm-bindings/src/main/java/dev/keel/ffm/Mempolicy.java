package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxConstants;

import java.lang.foreign.MemorySegment;

/**
 * NUMA memory policy through the raw system calls (glibc does not wrap them; libnuma does, but
 * keel has no native dependency):
 *
 * <pre>{@code
 * long mbind(void *addr, unsigned long len, int mode,
 *            const unsigned long *nodemask, unsigned long maxnode, unsigned int flags);
 * long set_mempolicy(int mode, const unsigned long *nodemask, unsigned long maxnode);
 * long get_mempolicy(int *mode, unsigned long *nodemask, unsigned long maxnode,
 *                    void *addr, unsigned long flags);
 * long move_pages(int pid, unsigned long count, void **pages,
 *                 const int *nodes, int *status, int flags);
 * }</pre>
 *
 * Node masks come from {@link NodeMask}, which owns the maxnode + 1 rule and the nr_node_ids
 * minimum; {@code maxnode} is never computed here. A NULL mask is {@link MemorySegment#NULL}.
 * EPERM from any of these calls usually means a seccomp filter (a container's default
 * profile) refused it: callers can tell by {@link SyscallException#errno()}.
 */
public final class Mempolicy {
    private Mempolicy() {
    }

    /**
     * Sets the policy of the pages of {@code range} (page-aligned): {@code mode} is one of
     * MPOL_DEFAULT, MPOL_BIND, MPOL_PREFERRED, MPOL_INTERLEAVE, MPOL_LOCAL (optionally or-ed
     * with mode flags), {@code flags} MPOL_MF_*.
     *
     * @throws SyscallException EINVAL for a node that does not exist or has no memory the
     *         process may use, EPERM when a seccomp filter blocks the call
     */
    public static void mbind(MemorySegment range, int mode, MemorySegment nodemask, int flags) {
        MemorySegment st = CallState.current();
        Downcalls.check("mbind", Syscall.call6(st, LinuxConstants.SYS_mbind, range.address(), range.byteSize(),
                mode, nodemask.address(), NodeMask.maxnode(nodemask), flags), st);
    }

    /** Sets the calling thread's default policy for memory it faults in from now on. */
    public static void setMempolicy(int mode, MemorySegment nodemask) {
        MemorySegment st = CallState.current();
        Downcalls.check("set_mempolicy", Syscall.call3(st, LinuxConstants.SYS_set_mempolicy,
                mode, nodemask.address(), NodeMask.maxnode(nodemask)), st);
    }

    /**
     * Reads a policy: the calling thread's (flags 0), the one of the page at {@code addr}
     * (MPOL_F_ADDR), the node of that page (MPOL_F_ADDR | MPOL_F_NODE) or the nodes the
     * process may allocate on (MPOL_F_MEMS_ALLOWED). The mode (or node) goes to the
     * {@code int} at {@code mode}, the nodes to {@code nodemask}; either may be NULL.
     */
    public static void getMempolicy(MemorySegment mode, MemorySegment nodemask, long addr, int flags) {
        MemorySegment st = CallState.current();
        Downcalls.check("get_mempolicy", Syscall.call5(st, LinuxConstants.SYS_get_mempolicy,
                mode.address(), nodemask.address(), NodeMask.maxnode(nodemask), addr, flags), st);
    }

    /** Fills {@code nodemask} with the nodes this process may allocate memory on (its cpuset's mems). */
    public static void memsAllowed(MemorySegment nodemask) {
        getMempolicy(MemorySegment.NULL, nodemask, 0, LinuxConstants.MPOL_F_MEMS_ALLOWED);
    }

    /**
     * Moves, or with {@code nodes} NULL only locates, {@code count} pages of process {@code pid}
     * (0: this one). {@code pages} holds {@code count} page addresses; {@code status} receives,
     * per page, the node it is on or a negative errno (-ENOENT: never touched, -EFAULT: no
     * such page, e.g. the shared zero page). Returns the number of pages that could not be
     * moved, 0 when only locating.
     */
    public static long movePages(int pid, long count, MemorySegment pages, MemorySegment nodes,
                                 MemorySegment status, int flags) {
        MemorySegment st = CallState.current();
        return Downcalls.check("move_pages", Syscall.call6(st, LinuxConstants.SYS_move_pages,
                pid, count, pages.address(), nodes.address(), status.address(), flags), st);
    }
}
