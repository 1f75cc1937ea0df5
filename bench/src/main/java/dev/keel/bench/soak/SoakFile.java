package dev.keel.bench.soak;

/** A file of the soak's site and the bytes every answer for it is checked against. */
record SoakFile(String name, byte[] bytes) {
}
