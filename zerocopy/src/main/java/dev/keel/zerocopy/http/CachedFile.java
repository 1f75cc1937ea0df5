package dev.keel.zerocopy.http;

import dev.keel.ffm.Files;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * An open file as the server knows it: descriptor, identity (device, inode, size, mtime),
 * validators (ETag, Last-Modified), Content-Type, and for a small file its bytes off-heap.
 *
 * <p>Reference-counted, because a cache eviction or a revalidation may drop the entry while a
 * slow client is still being sent the file: the descriptor is closed only when the last user
 * lets go. Closing it earlier would let the number be reused by the next open, and sendfile
 * would then send some other file's bytes. Loop-confined, like the cache that holds it.
 */
final class CachedFile {
    final PathKey key;
    final int fd;
    final long size;
    final long device;
    final long inode;
    final long mtimeSeconds;
    final long mtimeNanos;
    /** The entity tag with its quotes, e.g. {@code "1a2b-400-17f0c3e2a1b0c000"}. */
    final byte[] etag;
    /** Last-Modified as an IMF-fixdate. */
    final byte[] lastModified;
    final byte[] contentType;
    /** The whole file off-heap when it is small enough, else null. */
    final MemorySegment body;
    long validatedAt;
    /** A send from it failed or found it shorter than its size: the next lookup opens the path again. */
    boolean broken;
    private int refs = 1;
    private boolean closed;

    CachedFile(PathKey key, int fd, MemorySegment stat, byte[] contentType, MemorySegment body, long now) {
        this.key = key;
        this.fd = fd;
        this.size = Files.size(stat);
        this.device = Files.dev(stat);
        this.inode = Files.ino(stat);
        this.mtimeSeconds = Files.mtimeSeconds(stat);
        this.mtimeNanos = Files.mtimeNanos(stat);
        this.contentType = contentType;
        this.body = body;
        this.validatedAt = now;
        this.etag = ('"' + Long.toHexString(inode) + '-' + Long.toHexString(size) + '-'
                + Long.toHexString(mtimeSeconds * 1_000_000_000L + mtimeNanos) + '"').getBytes(StandardCharsets.US_ASCII);
        byte[] lm = new byte[HttpDates.LENGTH];
        HttpDates.format(mtimeSeconds, MemorySegment.ofArray(lm), 0);
        this.lastModified = lm;
    }

    /** Whether {@code stat} describes the same file in the same state. */
    boolean sameAs(MemorySegment stat) {
        return Files.ino(stat) == inode && Files.dev(stat) == device && Files.size(stat) == size
                && Files.mtimeSeconds(stat) == mtimeSeconds && Files.mtimeNanos(stat) == mtimeNanos;
    }

    void retain() {
        refs++;
    }

    /** Drops one reference; the descriptor closes with the last. */
    void release() {
        if (--refs == 0 && !closed) {
            closed = true;
            Files.close(fd);
        }
    }

    /** Closes the descriptor now, whoever still holds it: for shutdown, after the loops stopped. */
    void forceClose() {
        if (!closed) {
            closed = true;
            Files.close(fd);
        }
    }

    int refs() {
        return refs;
    }
}
