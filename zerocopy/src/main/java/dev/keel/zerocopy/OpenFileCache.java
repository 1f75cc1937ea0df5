package dev.keel.zerocopy;

import dev.keel.ffm.Files;
import dev.keel.ffm.SyscallException;
import dev.keel.ffm.Uio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One loop's open files, in the manner of nginx's {@code open_file_cache}: descriptor, stat,
 * validators and Content-Type of hot files, and the bytes of small ones, so a hit costs no
 * system call at all. Bounded (least recently used entries go first), revalidated after
 * {@code validity} (the path is resolved again and the file's identity compared: a file
 * replaced, modified or deleted is noticed within that interval), and every descriptor is
 * closed when its entry leaves and its last transfer ends. Loop-confined.
 */
final class OpenFileCache implements AutoCloseable {
    static final byte[] INDEX = Ascii.bytes("index.html");
    /** What {@link #acquire} returns for a directory asked without its slash. */
    static final int REDIRECT = 301;
    static final int OK = 0;

    private final FileResolver resolver;
    private final MemorySegment stat;
    private final long validityNanos;
    private final int smallFileMax;
    private final long bodyBudget;
    private final int maxEntries;
    private final PathKey probe = new PathKey();
    private final Map<PathKey, CachedFile> entries;
    private long bodyBytes;
    private CachedFile found;

    /**
     * @param maxEntries    files kept open at most (0: no caching, every request opens)
     * @param validityNanos how long an entry is trusted before it is checked again
     * @param smallFileMax  files up to this size are also held in memory (0: none)
     * @param bodyBudget    memory for those bytes at most
     */
    OpenFileCache(FileResolver resolver, Arena arena, int maxEntries, long validityNanos, int smallFileMax,
                  long bodyBudget) {
        this.resolver = resolver;
        this.stat = Files.newStat(arena);
        this.maxEntries = maxEntries;
        this.validityNanos = validityNanos;
        this.smallFileMax = smallFileMax;
        this.bodyBudget = bodyBudget;
        this.entries = new LinkedHashMap<>(Math.max(16, maxEntries * 4 / 3 + 1), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<PathKey, CachedFile> eldest) {
                if (size() > OpenFileCache.this.maxEntries) {
                    dropped(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    /**
     * Finds or opens the file for {@code path}. On {@link #OK} {@link #found()} is retained for
     * the caller, who must {@link CachedFile#release()} it; otherwise the status to answer:
     * {@link #REDIRECT}, 403, 404, 414, 500, 503.
     */
    int acquire(RequestPath path, long now) {
        found = null;
        probe.set(path.buffer(), path.length(), path.trailingSlash());
        CachedFile entry = entries.get(probe);
        if (entry != null && !entry.broken && now - entry.validatedAt < validityNanos) {
            entry.retain();
            found = entry;
            return OK;
        }
        int fd = resolve(path);
        if (fd < 0) {
            if (entry != null) {
                evict(entry);
            }
            return -fd;
        }
        if (entry != null) {
            if (!entry.broken && entry.sameAs(stat)) {
                Files.close(fd);
                entry.validatedAt = now;
                entry.retain();
                found = entry;
                return OK;
            }
            evict(entry);
        }
        CachedFile fresh;
        try {
            PathKey key = entry != null ? entry.key : probe.copy(); // not for a miss: 404s cost nothing
            fresh = new CachedFile(key, fd, stat, ContentTypes.of(path.buffer(), path.length()), readSmall(fd), now);
        } catch (RuntimeException e) {
            Files.close(fd);
            throw e;
        }
        if (maxEntries > 0) {
            fresh.retain(); // one reference for the cache, one for the caller
            entries.put(fresh.key, fresh);
            if (fresh.body != null) {
                bodyBytes += fresh.body.byteSize();
            }
        }
        found = fresh;
        return OK;
    }

    /** The file of the last successful {@link #acquire}. */
    CachedFile found() {
        return found;
    }

    /** Open descriptor, or {@code -status}; leaves the file's stat in {@link #stat}. */
    private int resolve(RequestPath path) {
        int fd = resolver.open(path.buffer(), path.length());
        if (fd < 0) {
            return fd;
        }
        try {
            Files.fstat(fd, stat);
            if (Files.isDirectory(stat)) {
                Files.close(fd);
                fd = -1;
                if (!path.trailingSlash()) {
                    return -REDIRECT;
                }
                path.appendIndex(INDEX);
                fd = resolver.open(path.buffer(), path.length());
                if (fd < 0) {
                    return fd == -404 ? -403 : fd; // a directory without an index is not listed
                }
                Files.fstat(fd, stat);
            }
            if (!Files.isRegularFile(stat)) {
                Files.close(fd);
                return -403; // FIFOs, devices, sockets, a directory named index.html
            }
            return fd;
        } catch (SyscallException e) {
            if (fd >= 0) {
                Files.close(fd);
            }
            return -FileResolver.statusOf(e.errno());
        }
    }

    /** The bytes of a small file, read once at open, or null. */
    private MemorySegment readSmall(int fd) {
        long size = Files.size(stat);
        if (size == 0 || size > smallFileMax || bodyBytes + size > bodyBudget || maxEntries == 0) {
            return null;
        }
        // An automatic arena: the segment lives while an entry or a queued write refers to it,
        // so no eviction can free bytes a transfer still reads.
        MemorySegment body = Arena.ofAuto().allocate(size, 8);
        long got = 0;
        while (got < size) {
            long n = Uio.readBlocking(fd, body.asSlice(got), size - got);
            if (n <= 0) {
                return null; // shrank under us, or EINTR/EAGAIN: send from the descriptor instead
            }
            got += n;
        }
        return body;
    }

    private void evict(CachedFile entry) {
        if (entries.remove(entry.key) == entry) {
            dropped(entry);
        }
    }

    private void dropped(CachedFile entry) {
        if (entry.body != null) {
            bodyBytes -= entry.body.byteSize();
        }
        entry.release();
    }

    /** Entries held now. */
    int size() {
        return entries.size();
    }

    /** Closes every descriptor the cache holds (after the loop stopped: no transfer is left). */
    @Override
    public void close() {
        List<CachedFile> all = new ArrayList<>(entries.values());
        entries.clear();
        bodyBytes = 0;
        for (CachedFile f : all) {
            f.forceClose();
        }
    }
}
