/** The soak: a load driver that checks every byte keel serve and keel echo send, for {@code make soak}. */
package dev.keel.bench.soak;
