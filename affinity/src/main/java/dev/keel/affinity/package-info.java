/**
 * CPU topology from sysfs and cgroups, pinning read back, core plans and reservations.
 *
 * <ul>
 *   <li>{@link dev.keel.affinity.CpuTopology}: CPUs, cores, SMT siblings, caches, nodes,
 *       hybrid kinds, isolated CPUs and the CPUs this process may use (start-up affinity ∩
 *       cgroup cpuset ∩ online), read below a root directory so recorded machines can be read
 *       too; {@link dev.keel.affinity.CpuSet} parses and prints cpulists and hex masks.</li>
 *   <li>{@link dev.keel.affinity.Affinity}: pin the calling platform thread, read it back.</li>
 *   <li>{@link dev.keel.affinity.CorePlan}: N CPUs for N loops, each with its reason
 *       ({@code CorePlan.forLoops(n).cpus()} is the default placement of a loop group).</li>
 *   <li>{@link dev.keel.affinity.CpuReservations}: one OFD-locked file per CPU, shared by
 *       threads and processes, released by the kernel when its holder dies.</li>
 *   <li>{@link dev.keel.affinity.ReservedPlan}: a plan made around the CPUs other processes
 *       reserved, its own CPUs reserved while the loops run; explicit CPUs win and report the holder.</li>
 *   <li>{@link dev.keel.affinity.PinnedThreadFactory}: threads pinned to the CPUs of a plan.</li>
 *   <li>{@link dev.keel.affinity.NicInfo} and {@link dev.keel.affinity.IrqPlan}: a NIC's node and
 *       interrupts, and where to put them relative to the loops (written only when asked).</li>
 * </ul>
 * Nothing here prints or exits; {@code keel cpus} (module cli) is the report.
 */
package dev.keel.affinity;
