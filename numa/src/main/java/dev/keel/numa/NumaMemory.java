package dev.keel.numa;

import dev.keel.ffm.Mempolicy;
import dev.keel.ffm.Mman;
import dev.keel.ffm.NodeMask;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Memory placed on NUMA nodes by policy: bound to nodes (MPOL_BIND), preferring a node,
 * interleaved over nodes, or local to the thread that first touches it. The segment is a fresh
 * anonymous mapping owned by an {@link Arena} and unmapped when the arena closes.
 *
 * <p>Unlike libnuma, which returns unbound memory with a warning when mbind fails, keel throws a
 * {@link NumaException} and unmaps: a caller never holds memory whose placement differs from the
 * one it asked for without knowing. Nodes are checked against the {@link NumaTopology} first so
 * that a missing, memoryless or forbidden node is refused with the reason, not a bare EINVAL.
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared()) {
 *     MemorySegment buffers = NumaMemory.bind(0).withPrefault().allocate(arena, 64 << 20);
 *     Placement.verify(buffers, IdSet.of(0));
 * }
 * }</pre>
 *
 * Instances are immutable specifications; {@code with...} methods return new ones.
 */
public final class NumaMemory {
    /** The memory policy a specification applies. */
    public enum Mode {
        /** {@code MPOL_BIND}: pages only on the given nodes; an allocation fails rather than spill over. */
        BIND(LinuxConstants.MPOL_BIND, "bind to"),
        /** {@code MPOL_PREFERRED}: pages on the given node while it has free memory, elsewhere after. */
        PREFER(LinuxConstants.MPOL_PREFERRED, "prefer"),
        /** {@code MPOL_INTERLEAVE}: pages spread round-robin over the given nodes. */
        INTERLEAVE(LinuxConstants.MPOL_INTERLEAVE, "interleave over"),
        /** {@code MPOL_LOCAL}: each page on the node of the CPU that first touches it. */
        LOCAL(LinuxConstants.MPOL_LOCAL, "local to the first toucher");

        private final int mpol;
        private final String words;

        Mode(int mpol, String words) {
            this.mpol = mpol;
            this.words = words;
        }
    }

    /**
     * Hands out node-placed memory by size, for pools that carve buffers (an event loop's
     * buffer pool takes one of these so that it need not know about NUMA).
     */
    @FunctionalInterface
    public interface Allocator {
        /**
         * A new segment of {@code bytes} placed as specified.
         *
         * @throws NumaException when it cannot be placed so
         */
        MemorySegment allocate(long bytes);
    }

    private final Mode mode;
    private final IdSet nodes;
    private final boolean prefault;
    private final ThreadFactory prefaultThreads;
    private final boolean hugePages;
    private final NumaTopology topology;

    private NumaMemory(Mode mode, IdSet nodes, boolean prefault, ThreadFactory prefaultThreads,
                       boolean hugePages, NumaTopology topology) {
        this.mode = mode;
        this.nodes = nodes;
        this.prefault = prefault;
        this.prefaultThreads = prefaultThreads;
        this.hugePages = hugePages;
        this.topology = topology;
    }

    /** Memory allocated only on {@code node}; the allocation fails rather than spill elsewhere. */
    public static NumaMemory bind(int node) {
        return bind(IdSet.of(node));
    }

    /** Memory allocated only on {@code nodes}. */
    public static NumaMemory bind(IdSet nodes) {
        return new NumaMemory(Mode.BIND, nonEmpty(nodes), false, null, false, null);
    }

    /** Memory allocated on {@code node} while it has free memory, elsewhere after. */
    public static NumaMemory prefer(int node) {
        return new NumaMemory(Mode.PREFER, IdSet.of(node), false, null, false, null);
    }

    /** Memory spread page by page over {@code nodes}, for data every node reads. */
    public static NumaMemory interleave(IdSet nodes) {
        return new NumaMemory(Mode.INTERLEAVE, nonEmpty(nodes), false, null, false, null);
    }

    /** Memory allocated on the node of the CPU that first touches each page. */
    public static NumaMemory local() {
        return new NumaMemory(Mode.LOCAL, IdSet.empty(), false, null, false, null);
    }

    /** Faults every page in from the allocating thread before returning (MADV_POPULATE_WRITE). */
    public NumaMemory withPrefault() {
        return new NumaMemory(mode, nodes, true, null, hugePages, topology);
    }

    /**
     * Faults every page in from a thread made by {@code threadsOnNode}, which must run only on
     * CPUs of the target nodes (for {@link #local()}, the node the pages should be local to).
     * Pinning is the affinity module's job; this class checks the thread's CPUs against the
     * topology and throws MISPLACED if they are elsewhere.
     */
    public NumaMemory withPrefault(ThreadFactory threadsOnNode) {
        return new NumaMemory(mode, nodes, true, Objects.requireNonNull(threadsOnNode), hugePages, topology);
    }

    /** Asks for transparent huge pages (MADV_HUGEPAGE); fails if the kernel refuses. */
    public NumaMemory withHugePages() {
        return new NumaMemory(mode, nodes, prefault, prefaultThreads, true, topology);
    }

    /** Checks nodes against {@code topology} instead of {@link NumaTopology#system()}. */
    public NumaMemory checkedAgainst(NumaTopology topology) {
        return new NumaMemory(mode, nodes, prefault, prefaultThreads, hugePages, Objects.requireNonNull(topology));
    }

    /** The policy this specification applies. */
    public Mode mode() {
        return mode;
    }

    /** The target nodes (empty for {@link #local()}). */
    public IdSet nodes() {
        return nodes;
    }

    /** An {@link Allocator} whose segments {@code arena} owns. */
    public Allocator allocator(Arena arena) {
        return bytes -> allocate(arena, bytes);
    }

    /**
     * Maps {@code bytes} of anonymous memory, applies the policy, optionally asks for huge pages
     * and pre-faults, and gives the mapping to {@code arena}.
     *
     * @throws NumaException when a node is refused, the policy cannot be applied (SYSCALLS_BLOCKED
     *         under a container's seccomp filter) or huge pages are refused; nothing stays mapped
     */
    public MemorySegment allocate(Arena arena, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("bytes must be positive: " + bytes);
        }
        NumaTopology t = topology != null ? topology : SystemTopology.get();
        nodes.stream().forEach(t::checkAllocatable);
        int prot = LinuxConstants.PROT_READ | LinuxConstants.PROT_WRITE;
        int flags = LinuxConstants.MAP_PRIVATE | LinuxConstants.MAP_ANONYMOUS;
        // Huge pages back only PMD-aligned extents: align the start so the whole range can use them.
        MemorySegment mapping = hugePages ? Mman.mmapAligned(bytes, HugePageSize.get(), prot, flags)
                : Mman.mmap(bytes, prot, flags, -1, 0);
        try {
            applyPolicy(mapping);
            if (hugePages) {
                adviseHugePages(mapping);
            }
            if (prefault) {
                prefault(mapping, t);
            }
        } catch (RuntimeException | Error e) {
            Mman.munmap(mapping);
            throw e;
        }
        return Mman.unmapOnClose(mapping, arena);
    }

    private void applyPolicy(MemorySegment mapping) {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment mask = mode == Mode.LOCAL ? MemorySegment.NULL : NodeMask.of(scratch, nodes.toArray());
            Mempolicy.mbind(mapping, mode.mpol, mask, 0);
        } catch (SyscallException e) {
            throw NumaException.from(e, mode.words + " " + describeNodes() + " " + mapping.byteSize() + " bytes");
        }
    }

    private static void adviseHugePages(MemorySegment mapping) {
        try {
            Mman.madvise(mapping, LinuxConstants.MADV_HUGEPAGE);
        } catch (SyscallException e) {
            throw new NumaException(NumaException.Reason.SYSCALL_FAILED,
                    "huge pages refused (transparent huge pages disabled or not built in?): " + e.getMessage(), e);
        }
    }

    private void prefault(MemorySegment mapping, NumaTopology t) {
        if (prefaultThreads == null) {
            populate(mapping);
            return;
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread toucher = prefaultThreads.newThread(() -> {
            try {
                checkOnTargetNodes(t);
                populate(mapping);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        toucher.start();
        try {
            toucher.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while pre-faulting", e);
        }
        Throwable e = failure.get();
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e != null) {
            throw new IllegalStateException("pre-faulting failed", e);
        }
    }

    private void checkOnTargetNodes(NumaTopology t) {
        if (mode == Mode.LOCAL) {
            return;
        }
        ThreadPlacement here = ThreadPlacement.current(t);
        IdSet targetCpus = nodes.stream().mapToObj(n -> t.node(n).map(NumaNode::cpus).orElse(IdSet.empty()))
                .reduce(IdSet.empty(), IdSet::union);
        if (!targetCpus.containsAll(here.allowedCpus())) {
            throw new NumaException(NumaException.Reason.MISPLACED, "the pre-fault thread may run on CPUs "
                    + here.allowedCpus() + ", not only on the CPUs " + targetCpus + " of node(s) " + nodes);
        }
    }

    /** Faults every page in with MADV_POPULATE_WRITE, or by writing a byte per page on kernels before 5.14. */
    private static void populate(MemorySegment mapping) {
        try {
            Mman.madvise(mapping, LinuxConstants.MADV_POPULATE_WRITE);
            return;
        } catch (SyscallException e) {
            if (e.errno() != Errno.EINVAL) {
                throw new NumaException(NumaException.Reason.SYSCALL_FAILED,
                        "cannot fault in " + mapping.byteSize() + " bytes: " + e.getMessage(), e);
            }
        }
        long page = Mman.pageSize();
        for (long off = 0; off < mapping.byteSize(); off += page) {
            mapping.set(JAVA_BYTE, off, (byte) 0);
        }
    }

    private String describeNodes() {
        return mode == Mode.LOCAL ? "" : (nodes.size() == 1 ? "node " : "nodes ") + nodes;
    }

    private static IdSet nonEmpty(IdSet nodes) {
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("no node given");
        }
        return nodes;
    }

    /** {@code "bind to node 0, prefault, huge pages"}. */
    @Override
    public String toString() {
        return mode.words + (mode == Mode.LOCAL ? "" : " " + describeNodes())
                + (prefault ? ", prefault" : "") + (hugePages ? ", huge pages" : "");
    }

    // The transparent huge page size (the PMD size), 0 when the kernel has no THP.
    private static final class HugePageSize {
        private static final long SIZE = SysFiles.read(java.nio.file.Path.of(
                "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")).map(Long::parseLong).orElse(0L);

        static long get() {
            return Math.max(SIZE, Mman.pageSize());
        }
    }

    // The machine's topology, read once on first use.
    private static final class SystemTopology {
        private static final NumaTopology TOPOLOGY = NumaTopology.system();

        static NumaTopology get() {
            return TOPOLOGY;
        }
    }
}
