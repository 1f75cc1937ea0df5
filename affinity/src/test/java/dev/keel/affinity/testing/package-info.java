/**
 * Test support shared with the numa and cli tests through affinity's test-jar (which holds
 * only this package and the recorded machines): sysfs trees of made-up and recorded machines
 * ({@link dev.keel.affinity.testing.Fixtures}, {@link dev.keel.affinity.testing.RecordedMachines})
 * and hwloc's view of them ({@link dev.keel.affinity.testing.HwlocView}).
 */
package dev.keel.affinity.testing;
