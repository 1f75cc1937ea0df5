/**
 * Test support shared with other modules' tests through io-core's test-jar (which holds only
 * this package): leak accounting of a process ({@link dev.keel.io.testing.ResourceSnapshot}),
 * the loop-thread allocation measure ({@link dev.keel.io.testing.LoopAllocations}) and a
 * Prometheus text checker ({@link dev.keel.io.testing.PrometheusTextCheck}).
 */
package dev.keel.io.testing;
