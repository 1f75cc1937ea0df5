package dev.keel.bench.serve;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Date;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The Netty file server's open-file cache, the counterpart of nginx's {@code open_file_cache}
 * (as the serve benchmark configures it) and keel's: a file's channel, size, validators and
 * type are kept per request target and checked against the file system at most once a second,
 * so a request costs no open, stat or close. Used from the one event loop thread only.
 */
final class OpenFiles {
    private static final long REVALIDATE_NANOS = 1_000_000_000L;
    private static final int MAX_ENTRIES = 1024;

    private final Path root;
    private final Map<String, OpenFile> cache = new HashMap<>();
    private long dateSecond = Long.MIN_VALUE;
    private String date;

    OpenFiles(Path root) {
        this.root = root;
    }

    /** The Date field of this second (formatted once per second). */
    String date() {
        long second = System.currentTimeMillis() / 1000;
        if (second != dateSecond) {
            date = DateFormatter.format(new Date(second * 1000));
            dateSecond = second;
        }
        return date;
    }

    /** The regular file {@code uri} names under the root, or null (missing, outside, not a file). */
    OpenFile lookup(String uri) {
        long now = System.nanoTime();
        OpenFile f = cache.get(uri);
        if (f != null && now - f.checkedAt < REVALIDATE_NANOS) {
            return f;
        }
        OpenFile fresh = open(uri, f, now);
        if (fresh != f) {
            if (f != null) {
                cache.remove(uri);
                f.release(); // the cache's reference; regions still being sent keep theirs
            }
            if (fresh != null) {
                if (cache.size() >= MAX_ENTRIES) {
                    cache.values().forEach(ReferenceCounted::release);
                    cache.clear();
                }
                cache.put(uri, fresh);
            }
        }
        return fresh;
    }

    /** {@code cached} if the file is unchanged (and marks it checked), a newly opened file, or null. */
    private OpenFile open(String uri, OpenFile cached, long now) {
        String decoded = new QueryStringDecoder(uri).path();
        if (!decoded.startsWith("/") || decoded.indexOf('\0') >= 0) {
            return null;
        }
        Path path = root.resolve(decoded.substring(1)).normalize();
        if (!path.startsWith(root)) {
            return null;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                return null;
            }
            long mtime = a.lastModifiedTime().toMillis();
            if (cached != null && cached.size == a.size() && cached.mtimeMillis == mtime
                    && Objects.equals(cached.fileKey, a.fileKey())) {
                cached.checkedAt = now;
                return cached;
            }
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            return new OpenFile(ch, a, contentType(path), now);
        } catch (IOException e) {
            return null;
        }
    }

    private static String contentType(Path path) {
        String name = path.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        return switch (ext) {
            case "html", "htm" -> "text/html; charset=utf-8";
            case "txt" -> "text/plain; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "js" -> "text/javascript; charset=utf-8";
            case "json" -> "application/json";
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "svg" -> "image/svg+xml";
            default -> "application/octet-stream";
        };
    }

    /** One open file and what its answers say about it; closed when the last reference goes. */
    static final class OpenFile extends AbstractReferenceCounted {
        final FileChannel channel;
        final long size;
        final long mtimeMillis;
        final Object fileKey;
        final String contentType;
        final String lastModified;
        final String etag;
        long checkedAt;

        OpenFile(FileChannel channel, BasicFileAttributes a, String contentType, long now) {
            this.channel = channel;
            this.size = a.size();
            this.mtimeMillis = a.lastModifiedTime().toMillis();
            this.fileKey = a.fileKey();
            this.contentType = contentType;
            this.lastModified = DateFormatter.format(new Date(mtimeMillis));
            this.etag = '"' + Long.toHexString(mtimeMillis / 1000) + '-' + Long.toHexString(size) + '"';
            this.checkedAt = now;
        }

        @Override
        protected void deallocate() {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing to do: the descriptor is gone either way
            }
        }

        @Override
        public ReferenceCounted touch(Object hint) {
            return this;
        }
    }
}
