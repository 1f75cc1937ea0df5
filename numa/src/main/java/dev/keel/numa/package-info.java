/**
 * NUMA topology, node-local memory that fails loudly, and verification of where pages landed.
 */
package dev.keel.numa;
