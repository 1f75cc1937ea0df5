package dev.keel.zerocopy.http;

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
 * system call at all.
 *
 * <p><b>Bounded.</b> At most {@code maxEntries} files are kept (the capacity, a count of
 * files: one descriptor each); past it the least recently used entry leaves. An entry that
 * leaves (evicted, found changed, found gone, or shed because open(2) failed with EMFILE or
 * ENFILE) has its descriptor closed at once, or, when a transfer is still sending from it,
 * when that transfer ends. So the descriptors of files a loop holds are at most its capacity
 * plus one per transfer in progress; with no transfer in progress, at most its capacity, and
 * never two of the same path.
 *
 * <p><b>Honest.</b> An entry is trusted for {@code validity} after it was opened or last
 * checked; the next request after that resolves the path again and compares the file's
 * identity (device, inode, size, modification time): a file replaced (renamed over), rewritten
 * or deleted is then served fresh, or answered 404. So a client sees a change at most
 * {@code validity} late; a validity of zero checks on every request (an open and an fstat
 * each, no stale answer ever). A rewrite that keeps size and modification time (possible within
 * the file system's timestamp granularity) is not noticed until the entry leaves for another
 * reason. Loop-confined.
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
    private long shed;
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
        probe.set(path.buffer(), path.length(), path.trailingSlash()); // a copy: resolve() may rewrite the buffer
        CachedFile entry = entries.get(probe);
        if (entry != null && !entry.broken && now - entry.validatedAt < validityNanos) {
            entry.retain();
            found = entry;
            return OK;
        }
        int fd = resolve(path);
        if (entry != null && entries.get(probe) != entry) {
            entry = null; // shed while resolving (out of descriptors): released already
        }
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
            // The request's key (the probe), not the path opened: for "/" that is "index.html".
            PathKey key = entry != null ? entry.key : probe.copy(); // not for a miss: 404s cost nothing
            fresh = new CachedFile(key, fd, stat, ContentTypes.of(path.buffer(), path.length()), readSmall(fd), now);
        } catch (RuntimeException e) {
            Files.close(fd);
            throw e;
        }
        if (maxEntries > 0) {
            fresh.retain(); // one reference for the cache, one for the caller
            CachedFile replaced = entries.put(fresh.key, fresh);
            if (replaced != null && replaced != fresh) {
                dropped(replaced); // cannot happen (a miss or an eviction came first), but never leak one
            }
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
        int fd = open(path);
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
                fd = open(path);
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

    /**
     * Opens the path now in the buffer; out of descriptors (503), sheds the least recently used
     * half of the entries and tries once more, so a cache that fills a low RLIMIT_NOFILE gives
     * its descriptors back instead of refusing every request.
     */
    private int open(RequestPath path) {
        int fd = resolver.open(path.buffer(), path.length());
        if (fd == -503 && shed()) {
            fd = resolver.open(path.buffer(), path.length());
        }
        return fd;
    }

    /** Drops the least recently used half of the entries (at least one); false when there were none. */
    private boolean shed() {
        int n = (entries.size() + 1) / 2;
        if (n == 0) {
            return false;
        }
        shed += n;
        List<CachedFile> oldest = new ArrayList<>(n);
        for (CachedFile f : entries.values()) {
            if (oldest.size() == n) {
                break;
            }
            oldest.add(f);
        }
        for (CachedFile f : oldest) {
            evict(f);
        }
        return true;
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

    /** Entries held now (at most {@link #capacity()}). */
    int size() {
        return entries.size();
    }

    /** Files kept open at most: the bound of {@link #size()}. */
    int capacity() {
        return maxEntries;
    }

    /** Entries dropped so far because open(2) ran out of descriptors. */
    long shedEntries() {
        return shed;
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
