/**
 * The read side of a loop's counters: immutable snapshots of {@link dev.keel.io.LoopStats}
 * and their histograms, and their Prometheus text exposition.
 */
package dev.keel.io.stats;
