/**
 * CPU topology from sysfs and cgroups, pinning read back, core plans and reservations.
 */
package dev.keel.affinity;
