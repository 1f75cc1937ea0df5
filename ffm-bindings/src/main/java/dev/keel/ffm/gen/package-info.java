/**
 * Kernel constants, errno values and struct layouts generated from this machine's headers by
 * {@code native/gen/keelgen.c} through {@code make gen}. Nothing here is written by hand;
 * {@code GeneratedSourcesTest} fails when these files and the headers disagree.
 */
package dev.keel.ffm.gen;
