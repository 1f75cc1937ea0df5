package dev.keel.zerocopy;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A cache key: a normalised request path and whether it ended in a slash. Stored keys own a
 * copy of the bytes; the probe used for lookups points at the loop's path buffer instead, so
 * a cache hit allocates nothing (the map calls the probe's {@code equals} with stored keys).
 */
final class PathKey {
    private byte[] bytes;
    private MemorySegment segment;
    private int length;
    private boolean slash;
    private int hash;

    /** A probe to be pointed at a path with {@link #set}. */
    PathKey() {
    }

    private PathKey(byte[] bytes, boolean slash, int hash) {
        this.bytes = bytes;
        this.length = bytes.length;
        this.slash = slash;
        this.hash = hash;
    }

    /** Points this probe at {@code [0, length)} of {@code path}. */
    PathKey set(MemorySegment path, int length, boolean trailingSlash) {
        this.segment = path;
        this.length = length;
        this.slash = trailingSlash;
        int h = trailingSlash ? 1 : 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + path.get(JAVA_BYTE, i);
        }
        this.hash = h;
        return this;
    }

    /** A stored key with its own copy of what this probe points at. */
    PathKey copy() {
        byte[] b = new byte[length];
        MemorySegment.copy(segment, JAVA_BYTE, 0, b, 0, length);
        return new PathKey(b, slash, hash);
    }

    byte[] bytes() {
        return bytes;
    }

    boolean slash() {
        return slash;
    }

    private byte byteAt(int i) {
        return bytes != null ? bytes[i] : segment.get(JAVA_BYTE, i);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PathKey k) || k.hash != hash || k.length != length || k.slash != slash) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (byteAt(i) != k.byteAt(i)) {
                return false;
            }
        }
        return true;
    }
}
