/**
 * Benchmarks of keel against its peers; run with make bench, never from make test.
 */
package dev.keel.bench;
