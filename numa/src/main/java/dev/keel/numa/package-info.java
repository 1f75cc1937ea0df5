/**
 * NUMA topology, node-local memory that fails loudly, and verification of where pages landed.
 *
 * <ul>
 * <li>{@link dev.keel.numa.NumaTopology}: nodes, CPUs, memory, distances and the nodes this
 *     process may use (mems allowed ∩ cpuset), from sysfs under a root directory;</li>
 * <li>{@link dev.keel.numa.NumaMemory}: arena-owned memory bound to, preferring, interleaved
 *     over or local to nodes, optionally pre-faulted and on huge pages; it throws
 *     {@link dev.keel.numa.NumaException} rather than hand out memory placed elsewhere, and its
 *     {@link dev.keel.numa.NumaMemory.Allocator} feeds buffer pools;</li>
 * <li>{@link dev.keel.numa.Placement}: per-node page histograms through move_pages, and
 *     {@link dev.keel.numa.ThreadPlacement} for where the calling thread runs;</li>
 * <li>{@link dev.keel.numa.NumaMaps} and {@link dev.keel.numa.MemoryPolicy}: a process's
 *     memory per node and a thread's policy, as {@code keel numa} prints them.</li>
 * </ul>
 *
 * No class here prints or exits; failures of the NUMA system calls under a container's
 * seccomp profile (EPERM) are reported as such while the topology still reads.
 */
package dev.keel.numa;
