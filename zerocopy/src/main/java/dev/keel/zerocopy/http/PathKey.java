package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A cache key: a normalised request path and whether it ended in a slash. Stored keys own
 * exactly their bytes; the probe used for lookups copies the request's path into a scratch
 * array it reuses, so a cache hit allocates nothing, and nothing done to the loop's path buffer
 * after the lookup (the resolver appends {@code index.html} to a directory's path there)
 * changes the key: the key stored for a miss is the request's, not the path finally opened.
 */
final class PathKey {
    private byte[] bytes;
    private int length;
    private boolean slash;
    private int hash;

    /** A probe to be pointed at a path with {@link #set}. */
    PathKey() {
        this.bytes = new byte[256];
    }

    private PathKey(byte[] bytes, boolean slash, int hash) {
        this.bytes = bytes;
        this.length = bytes.length;
        this.slash = slash;
        this.hash = hash;
    }

    /** Makes this probe the key of {@code [0, length)} of {@code path} (copied: later writes to it do not count). */
    PathKey set(MemorySegment path, int length, boolean trailingSlash) {
        if (bytes.length < length) {
            bytes = new byte[Math.max(length, bytes.length * 2)];
        }
        MemorySegment.copy(path, JAVA_BYTE, 0, bytes, 0, length);
        this.length = length;
        this.slash = trailingSlash;
        int h = trailingSlash ? 1 : 0;
        for (int i = 0; i < length; i++) {
            h = 31 * h + bytes[i];
        }
        this.hash = h;
        return this;
    }

    /** A stored key with its own copy of this probe's bytes. */
    PathKey copy() {
        return new PathKey(Arrays.copyOf(bytes, length), slash, hash);
    }

    /** The key's bytes (a copy). */
    byte[] bytes() {
        return Arrays.copyOf(bytes, length);
    }

    boolean slash() {
        return slash;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PathKey k && k.hash == hash && k.length == length && k.slash == slash
                && Arrays.equals(bytes, 0, length, k.bytes, 0, k.length);
    }

    @Override
    public String toString() {
        return new String(bytes, 0, length, java.nio.charset.StandardCharsets.UTF_8) + (slash ? " (/)" : "");
    }
}
