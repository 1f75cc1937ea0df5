package dev.keel.zerocopy.http;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Precompressed variants, as nginx's {@code gzip_static}/{@code brotli_static} and Caddy's
 * {@code precompressed}: for {@code a.css} asked with an Accept-Encoding that allows it, the
 * file {@code a.css.br}, {@code a.css.zst} or {@code a.css.gz} beside it is sent instead,
 * zero-copy like any file, with {@code Content-Encoding}, the original's Content-Type and the
 * variant's own ETag (its inode, size and time), so Range and 304 apply to the variant's bytes.
 *
 * <p>A variant older than its original (modified earlier) is stale and ignored: the original
 * is sent. Variants come through the loop's {@link OpenFileCache} like any file, so a hot one
 * costs no system call; a missing one costs one failed open per request and coding tried
 * (misses are not cached), which is why the feature is off unless asked for.
 */
final class Precompressed {
    private Precompressed() {
    }

    /**
     * A variant of {@code original} the request accepts, retained for the caller, or null (serve
     * the original). The request's path is in {@link LoopResources#path} as the cache resolved
     * it; it is left as it was. The chosen coding is then {@link LoopResources#coding}.
     */
    static CachedFile variant(LoopResources r, HttpRequest q, CachedFile original, long now) {
        r.coding = ContentCoding.IDENTITY;
        int prefs = ContentCoding.preferences(q.source, q.acceptEncodingStart, q.acceptEncodingEnd);
        if (ContentCoding.at(prefs, 0) == ContentCoding.IDENTITY) {
            return null;
        }
        RequestPath path = r.path;
        if (path.trailingSlash() && !endsWithIndex(path)) {
            path.appendIndex(OpenFileCache.INDEX); // a hit on "dir/" did not resolve, so did not append it
        }
        int base = path.length();
        for (int i = 0; i < ContentCoding.COUNT; i++) {
            int c = ContentCoding.at(prefs, i);
            if (c == ContentCoding.IDENTITY || !path.appendSuffix(ContentCoding.SUFFIXES[c])) {
                break;
            }
            int status = r.cache.acquire(path, now);
            path.truncate(base);
            if (status == OpenFileCache.OK) {
                CachedFile v = r.cache.found();
                if (!olderThan(v, original)) {
                    r.coding = c;
                    return v;
                }
                v.release();
            }
        }
        return null;
    }

    private static boolean olderThan(CachedFile v, CachedFile original) {
        return v.mtimeSeconds < original.mtimeSeconds
                || v.mtimeSeconds == original.mtimeSeconds && v.mtimeNanos < original.mtimeNanos;
    }

    private static boolean endsWithIndex(RequestPath path) {
        byte[] index = OpenFileCache.INDEX;
        int n = path.length();
        if (n < index.length || n > index.length && path.buffer().get(JAVA_BYTE, n - index.length - 1) != '/') {
            return false;
        }
        return Ascii.equals(path.buffer(), n - index.length, n, index);
    }
}
